// In-memory FileWatcher for tests, beside the real one and implementing the same port: the test
// emits changes by hand.
import { resolve } from 'node:path'
import type { FileChange, FileWatcher } from './file-watcher.js'

/** Delivers what the test emits, for the watched paths only, until closed. */
export class FakeFileWatcher implements FileWatcher {
  /** The watched paths (absolute), empty before `watch` and after `close`. */
  readonly paths = new Set<string>()
  #onChange: ((c: FileChange) => void) | undefined
  closed = false

  async watch (paths: readonly string[], onChange: (c: FileChange) => void): Promise<void> {
    for (const p of paths) this.paths.add(resolve(p))
    this.#onChange = onChange
    this.closed = false
  }

  async close (): Promise<void> {
    this.closed = true
    this.paths.clear()
    this.#onChange = undefined
  }

  /** Emits one change, as the real watcher would after a burst; false when nobody would see it. */
  emit (path: string, kind: FileChange['kind'] = 'change'): boolean {
    const p = resolve(path)
    if (this.#onChange === undefined || !this.paths.has(p)) return false
    this.#onChange({ path: p, kind })
    return true
  }
}
