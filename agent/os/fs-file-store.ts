// The real FileStore, on node:fs and shared/fs/atomic-write.
import { chmod, chown, lstat, readFile, realpath, rm, stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { atomicWrite } from '../../shared/fs/atomic-write.js'
import { decodeUtf8 } from '../../shared/fs/utf8.js'
import { removeAtomicTemps } from '../../shared/fs/temp-sweep.js'
import type { FileMeta, FileSnapshot, FileStore } from './file-store.js'

export class FsFileStore implements FileStore {
  async read (path: string): Promise<FileSnapshot> {
    let bytes: Buffer
    try {
      bytes = await readFile(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { content: undefined, meta: undefined }
      throw err
    }
    const { text, invalidLine } = decodeUtf8(bytes)
    const s = await stat(path)
    return { content: text, meta: { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid }, ...(invalidLine === undefined ? {} : { invalidUtf8: { line: invalidLine } }) }
  }

  async write (path: string, content: string, meta?: FileMeta): Promise<void> {
    const exists = await lstat(path).then(() => true, () => false)
    await atomicWrite(path, content, meta === undefined ? {} : { mode: meta.mode, uid: meta.uid, gid: meta.gid })
    // atomicWrite keeps an existing file's mode and owner; a restore must put back the backup's.
    if (exists && meta !== undefined) {
      const s = await stat(path)
      if ((s.mode & 0o7777) !== meta.mode) await chmod(path, meta.mode)
      if (s.uid !== meta.uid || s.gid !== meta.gid) await chown(path, meta.uid, meta.gid)
    }
  }

  async remove (path: string): Promise<void> {
    await rm(path, { force: true })
  }

  async removeLeftovers (paths: readonly string[]): Promise<string[]> {
    // atomicWrite writes next to the file a symlink points to: look beside the link and the target.
    // The directories are shared (/etc/default): only temporary files of these very files go.
    const byDir = new Map<string, Set<string>>()
    for (const p of paths) {
      for (const q of new Set([p, await realpath(p).catch(() => p)])) byDir.set(dirname(q), (byDir.get(dirname(q)) ?? new Set()).add(basename(q)))
    }
    const removed: string[] = []
    for (const [dir, names] of byDir) removed.push(...await removeAtomicTemps(dir, { targets: [...names] }))
    return removed
  }
}
