// The repository the lab binds into every node, and the compiled emulator the nodes run.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The keyroll repository containing this file (works from test/lab and from dist/test/lab). */
export function repoRoot (from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'keyroll') return dir
  }
  throw new Error(`no keyroll package.json above ${from}`)
}

/** Where `npm run build` puts the emulator's entry point. */
export const EMULATOR_MAIN = 'dist/test/lab/emulator/main.js'

/**
 * Throws unless the compiled emulator exists and is not older than its sources: nodes run
 * dist/, so a stale build would test old code without saying so.
 */
export function assertEmulatorBuilt (repo: string): void {
  const main = join(repo, EMULATOR_MAIN)
  if (!existsSync(main)) throw new Error(`the minkms emulator is not built (${main} is missing): run "npm run build"`)
  const src = join(repo, 'test/lab/emulator')
  const built = statSync(main).mtimeMs
  const newer = readdirSync(src).filter((f) => f.endsWith('.ts') && statSync(join(src, f)).mtimeMs > built)
  if (newer.length > 0) throw new Error(`the emulator build is older than ${newer.slice(0, 3).join(', ')}: run "npm run build"`)
}
