// keyroll's version for `keyroll --version`: package.json's, found by walking up from this file
// (it sits two levels below the checkout in the sources, three in dist/), read once at start.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function packageVersion (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown, version?: unknown }
      if (pkg.name === 'keyroll' && typeof pkg.version === 'string') return pkg.version
    }
    dir = dirname(dir)
  }
  return 'unknown'
}

export const KEYROLL_VERSION = packageVersion()
