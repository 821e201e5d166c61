#!/usr/bin/env node
// `npm run lab -- <command>`: builds the project (the nodes run the compiled emulator from dist/),
// then runs the lab CLI (test/lab/lab-cli.ts) with the remaining arguments.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' })
if (build.status !== 0) {
  console.error(`lab: the build failed (tsc exit ${build.status ?? build.signal}); not running the lab`)
  process.exit(1)
}
const { main } = await import(pathToFileURL(join(root, 'dist/test/lab/lab-cli.js')).href)
process.exitCode = await main(process.argv.slice(2))
