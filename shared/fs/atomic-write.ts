// Replacing a file so that a crash, a full disk or a power loss leaves either the old content or
// the new one, never a torn mix: write a temporary file in the same directory (same file system,
// so rename is atomic), give it the target's mode and owner, fsync it, rename it over the target,
// then fsync the directory so the rename itself is durable. Any failure before the rename removes
// the temporary file and leaves the target untouched.
// A process killed mid-write cannot remove its temporary file. So that a later start can find and
// remove exactly those files (shared/fs/temp-sweep.ts), they are named by {@link atomicTempName}
// and stay 0600 until their content is complete: a leftover holding a secret is readable by root
// only, whatever the target's mode.
import { randomBytes } from 'node:crypto'
import type { Stats } from 'node:fs'
import { open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { AtomicWriteError, NotAFileError, type AtomicWriteStep } from './errors.js'

/** What marks a temporary file as ours: `.<target name>.keyroll-<16 hex>.tmp`. */
export const ATOMIC_TEMP_TAG = 'keyroll'

/** The temporary file's name for a write to a file named `target` (a base name). */
export function atomicTempName (target: string, random = randomBytes(8).toString('hex')): string {
  return `.${target}.${ATOMIC_TEMP_TAG}-${random}.tmp`
}

/** The file-system calls atomicWrite makes. Tests replace some to inject failures. */
export interface AtomicWriteFs {
  realpath: (path: string) => Promise<string>
  stat: (path: string) => Promise<Stats>
  open: (path: string, flags: string, mode?: number) => Promise<FileHandle>
  rename: (from: string, to: string) => Promise<void>
  unlink: (path: string) => Promise<void>
}

/** The real file system. */
export const nodeAtomicWriteFs: AtomicWriteFs = { realpath, stat, open, rename, unlink }

/** Options for {@link atomicWrite}. */
export interface AtomicWriteOptions {
  /** Mode of a file that does not exist yet (default 0o600). An existing file keeps its mode. */
  readonly mode?: number
  /** Owner of a file that does not exist yet (needs root). An existing file keeps its owner. */
  readonly uid?: number
  /** Group of a file that does not exist yet (needs root). */
  readonly gid?: number
  /** File-system calls to use instead of node:fs (tests). */
  readonly fs?: Partial<AtomicWriteFs>
}

/**
 * Atomically replaces (or creates) `path` with `data`. A symlink is followed: the file it points
 * to is replaced and the link stays. Throws NotAFileError when the target is not a regular file,
 * AtomicWriteError (with the failing step and the system error as cause) otherwise.
 */
export async function atomicWrite (path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const fs: AtomicWriteFs = { ...nodeAtomicWriteFs, ...opts.fs }
  let target: string
  let current: Stats | undefined
  try {
    target = await fs.realpath(path).catch(ifMissing(path))
    current = await fs.stat(target).catch(ifMissing(undefined))
  } catch (err) {
    throw new AtomicWriteError(path, 'stat', err)
  }
  if (current !== undefined && !current.isFile()) throw new NotAFileError(path)
  const mode = current === undefined ? opts.mode ?? 0o600 : current.mode & 0o7777
  const owner = current === undefined
    ? (opts.uid === undefined && opts.gid === undefined ? undefined : { uid: opts.uid ?? -1, gid: opts.gid ?? -1 })
    : { uid: current.uid, gid: current.gid }

  const dir = dirname(target)
  const tmp = join(dir, atomicTempName(basename(target)))
  let fh: FileHandle | undefined
  let step: AtomicWriteStep = 'open'
  try {
    // 0600 from creation until the content is complete: whatever the umask and the target's
    // mode, nobody but root can read a secret in a temporary file, even one a kill left behind.
    fh = await fs.open(tmp, 'wx', 0o600)
    step = 'write'
    await fh.writeFile(data)
    step = 'chmod'
    await fh.chmod(mode)
    if (owner !== undefined && needsChown(owner)) {
      step = 'chown'
      await fh.chown(owner.uid, owner.gid)
    }
    // One fsync after the mode and owner, so data and metadata are durable together.
    step = 'fsync'
    await fh.sync()
    step = 'close'
    const handle = fh
    fh = undefined
    await handle.close()
    step = 'rename'
    await fs.rename(tmp, target)
  } catch (err) {
    await fh?.close().catch(() => {})
    await fs.unlink(tmp).catch(() => {})
    throw new AtomicWriteError(path, step, err)
  }
  try {
    const d = await fs.open(dir, 'r')
    try { await d.sync() } finally { await d.close() }
  } catch (err) {
    throw new AtomicWriteError(path, 'fsync-dir', err)
  }
}

// As root, restore any owner; as anyone else, only an owner that differs from ours needs a chown
// (which then fails with EPERM unless it is a group we belong to: better than silently taking
// over the file).
function needsChown (owner: { uid: number, gid: number }): boolean {
  const uid = process.getuid?.()
  const gid = process.getgid?.()
  if (uid === 0) return true
  return (owner.uid !== -1 && owner.uid !== uid) || (owner.gid !== -1 && owner.gid !== gid)
}

function ifMissing<T> (fallback: T): (err: unknown) => T {
  return err => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback
    throw err
  }
}
