// In-memory FileStore for unit tests; `failWrite` injects a failure on a path, `leftovers` the
// temporary files a killed write would have left.
import { decodeUtf8 } from '../../shared/fs/utf8.js'
import type { FileMeta, FileSnapshot, FileStore } from './file-store.js'

export class MemoryFileStore implements FileStore {
  readonly files = new Map<string, { content: string, meta: FileMeta, invalidLine?: number }>()
  /** Paths whose next write throws. */
  readonly failWrite = new Set<string>()
  readonly writes: string[] = []
  /** Temporary files (paths) that removeLeftovers finds and removes. */
  readonly leftovers = new Set<string>()

  /** Files given as bytes are decoded as FsFileStore does (a bad byte read as U+FFFD, and flagged). */
  constructor (initial: Record<string, string | Uint8Array> = {}) {
    for (const [p, c] of Object.entries(initial)) {
      const decoded = typeof c === 'string' ? { text: c } : decodeUtf8(c)
      this.files.set(p, { content: decoded.text, meta: { mode: 0o640, uid: 0, gid: 0 }, ...(decoded.invalidLine === undefined ? {} : { invalidLine: decoded.invalidLine }) })
    }
  }

  async read (path: string): Promise<FileSnapshot> {
    const f = this.files.get(path)
    if (f === undefined) return { content: undefined, meta: undefined }
    return { content: f.content, meta: { ...f.meta }, ...(f.invalidLine === undefined ? {} : { invalidUtf8: { line: f.invalidLine } }) }
  }

  async write (path: string, content: string, meta?: FileMeta): Promise<void> {
    if (this.failWrite.delete(path)) throw new Error(`injected write failure: ${path}`)
    this.writes.push(path)
    const old = this.files.get(path)
    this.files.set(path, { content, meta: meta ?? old?.meta ?? { mode: 0o600, uid: 0, gid: 0 } })
  }

  async remove (path: string): Promise<void> {
    this.files.delete(path)
  }

  async removeLeftovers (paths: readonly string[]): Promise<string[]> {
    const dirs = new Set(paths.map((p) => p.slice(0, p.lastIndexOf('/') + 1)))
    const removed = [...this.leftovers].filter((l) => dirs.has(l.slice(0, l.lastIndexOf('/') + 1)))
    for (const l of removed) this.leftovers.delete(l)
    return removed
  }
}
