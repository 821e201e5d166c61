// Whether `npm run lab -- <command>` must build first: the nodes run the compiled tree (dist/),
// so `up` needs a build when any TypeScript source is newer than its compiled file; `status`,
// `down` and help only read lab state and never build (they answer in about a second).
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

/** Directories tsc compiles (tsconfig.json "include"). */
export const SOURCE_DIRS = ['agent', 'coordinator', 'shared', 'test']

/** Commands that only read lab state, and help. */
const READ_ONLY = new Set(['status', 'down', 'help'])
const HELP = new Set(['--help', '-h'])

function mtime (path) {
  try { return statSync(path).mtimeMs } catch { return undefined }
}

function * sources (dir) {
  let entries
  try { entries = readdirSync(dir, { withFileTypes: true }) } catch { return }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield * sources(p)
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p
  }
}

/** The first source (relative to `root`) with no compiled file or one older than it; undefined when dist/ is current. */
export function staleSource (root) {
  const config = mtime(join(root, 'tsconfig.json')) ?? 0
  for (const dir of SOURCE_DIRS) {
    for (const src of sources(join(root, dir))) {
      const rel = relative(root, src)
      const out = mtime(join(root, 'dist', rel.replace(/\.ts$/, '.js')))
      if (out === undefined || out < Math.max(mtime(src) ?? 0, config)) return rel
    }
  }
  return undefined
}

/** Why the command line `argv` must build first, or undefined when it must not (read-only, help, or dist/ current). */
export function buildReason (root, argv) {
  const command = argv[0]
  if (command === undefined || READ_ONLY.has(command) || argv.some((a) => HELP.has(a))) return undefined
  const stale = staleSource(root)
  return stale === undefined ? undefined : `${stale} is newer than dist/`
}
