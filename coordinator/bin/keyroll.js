#!/usr/bin/env node
// The `keyroll` command (package.json "bin", so `npx keyroll` works in a checkout): runs the
// compiled CLI. Committed executable, so the command works however dist/ was built.
import { existsSync } from 'node:fs'

const main = new URL('../../dist/coordinator/cli/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write('keyroll: the CLI is not built (no dist/coordinator/cli/main.js); run `npm run build` in the checkout\n')
  process.exit(1)
}
await import(main.href)
