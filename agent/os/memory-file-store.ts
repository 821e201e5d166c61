// In-memory FileStore for unit tests; `failWrite` injects a failure on a path.
import type { FileMeta, FileSnapshot, FileStore } from './file-store.js'

export class MemoryFileStore implements FileStore {
  readonly files = new Map<string, { content: string, meta: FileMeta }>()
  /** Paths whose next write throws. */
  readonly failWrite = new Set<string>()
  readonly writes: string[] = []

  constructor (initial: Record<string, string> = {}) {
    for (const [p, c] of Object.entries(initial)) this.files.set(p, { content: c, meta: { mode: 0o640, uid: 0, gid: 0 } })
  }

  async read (path: string): Promise<FileSnapshot> {
    const f = this.files.get(path)
    return f === undefined ? { content: undefined, meta: undefined } : { content: f.content, meta: { ...f.meta } }
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
}
