#!/usr/bin/env node
// The `keyroll-coordinator` command (package.json "bin", so `npx keyroll-coordinator` works in a
// checkout): runs the compiled coordinator. Committed executable, like agent/bin/keyroll-agent.js.
// systemd runs dist/coordinator/main.js directly.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const main = new URL('../../dist/coordinator/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write('keyroll-coordinator: the coordinator is not built (no dist/coordinator/main.js); run `npm run build` in the checkout\n')
  process.exit(1)
}
// main.js runs only when it is the program: hand it this process's argv as if it were.
process.argv[1] = fileURLToPath(main)
await import(main.href)
