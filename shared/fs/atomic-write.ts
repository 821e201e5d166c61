// Replacing a file so that a crash, a full disk or a power loss leaves either the old content or
// the new one, never a torn mix (STYLE R11): write a temporary file in the same directory (same
// file system, so rename is atomic), give it the target's mode and owner, fsync it, rename it over
// the target, then fsync the directory so the rename itself is durable. Any failure before the
// rename removes the temporary file and leaves the target untouched.
import { randomBytes } from 'node:crypto'
import type { Stats } from 'node:fs'
import { open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { AtomicWriteError, NotAFileError, type AtomicWriteStep } from './errors.js'

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
  const tmp = join(dir, `.${basename(target)}.${randomBytes(8).toString('hex')}.tmp`)
  let fh: FileHandle | undefined
  let step: AtomicWriteStep = 'open'
  try {
    // 0600 first: whatever the umask, nobody else can read a secret while it is being written.
    fh = await fs.open(tmp, 'wx', 0o600)
    step = 'chmod'
    await fh.chmod(mode)
    if (owner !== undefined && needsChown(owner)) {
      step = 'chown'
      await fh.chown(owner.uid, owner.gid)
    }
    step = 'write'
    await fh.writeFile(data)
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
