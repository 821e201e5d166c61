#!/usr/bin/env node
// `npm run demo -- [--keep] [--report FILE] [--id N]`: runs the demo (test/demo/demo-cli.ts,
// compiled to dist/) with the remaining arguments. Builds first when a source is newer than dist/
// (the lab's nodes run the compiled tree), as `npm run lab -- up` does; --help never builds.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { staleSource } from '../lab/lab-build.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const argv = process.argv.slice(2)
const help = argv.some((a) => a === '--help' || a === '-h')
const stale = help ? undefined : staleSource(root)
if (stale !== undefined) {
  console.error(`demo: building… (${stale} is newer than dist/)`)
  const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' })
  if (build.status !== 0) {
    console.error(`demo: the build failed (tsc exit ${build.status ?? build.signal}); not running the demo`)
    process.exit(1)
  }
}
const cli = join(root, 'dist/test/demo/demo-cli.js')
if (!existsSync(cli)) {
  console.error('demo: the demo is not built (dist/test/demo/demo-cli.js); run `npm run build` first')
  process.exit(1)
}
const { main } = await import(pathToFileURL(cli).href)
process.exitCode = await main(argv)
