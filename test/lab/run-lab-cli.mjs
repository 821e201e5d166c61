#!/usr/bin/env node
// `npm run lab -- <command>`: runs the lab CLI (test/lab/lab-cli.ts, compiled to dist/) with the
// remaining arguments. `up` builds first when a source is newer than dist/ (the nodes run the
// compiled emulator and agent) and says so; `status` and `down` never build.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { buildReason } from './lab-build.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const argv = process.argv.slice(2)
const reason = buildReason(root, argv)
if (reason !== undefined) {
  console.error(`lab: building… (${reason})`)
  const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' })
  if (build.status !== 0) {
    console.error(`lab: the build failed (tsc exit ${build.status ?? build.signal}); not running the lab`)
    process.exit(1)
  }
}
const cli = join(root, 'dist/test/lab/lab-cli.js')
if (!existsSync(cli)) {
  console.error('lab: the lab CLI is not built (dist/test/lab/lab-cli.js); run `npm run build` first')
  process.exit(1)
}
const { main } = await import(pathToFileURL(cli).href)
process.exitCode = await main(argv)
