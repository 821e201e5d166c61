// Removing what a killed atomicWrite left behind: its temporary files (see atomicTempName). A
// process killed between creating and renaming one cannot remove it, and it may hold a secret (the
// new config with an API key, a sealed record), so the next start removes it. Only files that are
// certainly ours are touched: a regular file whose name is a temporary-file name of atomicWrite,
// and in a directory shared with other software (/etc/default) only those of the files we manage.
import { readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ATOMIC_TEMP_TAG } from './atomic-write.js'

// `.<target>.keyroll-<16 hex>.tmp`; agents before the tag wrote `.<target>.<16 hex>.tmp`, whose
// leftovers are as much ours and as secret, so they match too.
const TEMP = new RegExp(`^\\.(.+)\\.(?:${ATOMIC_TEMP_TAG}-)?[0-9a-f]{16}\\.tmp$`)

/** The target name a temporary file of atomicWrite stands for, or undefined when `name` is not one. */
export function atomicTempTarget (name: string): string | undefined {
  return TEMP.exec(name)?.[1]
}

export interface SweepOptions {
  /** Only temporary files of these target names (base names); default: of any target. */
  readonly targets?: readonly string[]
  /** How many directory levels below `dir` to search as well (default 0: `dir` only). */
  readonly depth?: number
}

/**
 * Removes leftover temporary files of atomicWrite in `dir` (and below, to `depth`) and returns
 * their paths. Symlinks are never followed; a missing directory has none.
 */
export async function removeAtomicTemps (dir: string, opts: SweepOptions = {}): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const removed: string[] = []
  for (const e of entries) {
    const path = join(dir, e.name)
    if (e.isDirectory() && (opts.depth ?? 0) > 0) {
      removed.push(...await removeAtomicTemps(path, { ...opts, depth: (opts.depth ?? 0) - 1 }))
      continue
    }
    const target = e.isFile() ? atomicTempTarget(e.name) : undefined
    if (target === undefined || (opts.targets !== undefined && !opts.targets.includes(target))) continue
    try {
      await unlink(path)
      removed.push(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  return removed
}
