#!/usr/bin/env node
// The `keyroll-agent` command (package.json "bin", so `npx keyroll-agent` works in a checkout):
// runs the compiled agent. This file is committed executable, so the command works however
// dist/ was built (npm ci builds it through the `prepare` script; tsc alone leaves the compiled
// entry without an executable bit). systemd runs dist/agent/main.js directly.
import { existsSync } from 'node:fs'

const main = new URL('../../dist/agent/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write('keyroll-agent: the agent is not built (no dist/agent/main.js); run `npm run build` in the checkout\n')
  process.exit(1)
}
await import(main.href)
