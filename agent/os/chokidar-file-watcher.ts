// The real FileWatcher: chokidar 4 on the PARENT DIRECTORIES of the managed files. Watching a
// file itself loses it on an atomic rename-over (ours, an editor's, Ansible's): the watched
// inode is replaced and inotify keeps reporting on the old one. The directory sees every
// create/rename/delete, and an `ignored` filter keeps chokidar away from the other files there.
//
// A save is a burst (truncate + write + chmod, or temp file + rename), so events are debounced per
// file, and the kind is decided when the burst is over by looking at the file: gone → unlink,
// there but not before → add, otherwise change. That is one event per burst whatever mix of raw
// events chokidar reported, and a temp file that came and went reports nothing.
import { watch, type FSWatcher } from 'chokidar'
import { stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { OsPortError } from '../errors.js'
import type { FileChange, FileWatcher } from './file-watcher.js'

/** Options of {@link ChokidarFileWatcher}. */
export interface ChokidarFileWatcherOptions {
  /** Quiet time that ends a burst, in ms (default 75). */
  debounceMs?: number
  /** Called for watcher errors (EACCES on a directory...); default: ignore. */
  onError?: (err: OsPortError) => void
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

/** Watches exact files through their directories. One `watch` per instance. */
export class ChokidarFileWatcher implements FileWatcher {
  readonly #debounceMs: number
  readonly #onError: (err: OsPortError) => void
  #watcher: FSWatcher | undefined
  readonly #timers = new Map<string, NodeJS.Timeout>()
  /** Whether each file existed at the end of its last burst (or at the start). */
  readonly #present = new Map<string, boolean>()
  #closed = false

  constructor (opts: ChokidarFileWatcherOptions = {}) {
    this.#debounceMs = opts.debounceMs ?? 75
    this.#onError = opts.onError ?? (() => {})
  }

  async watch (paths: readonly string[], onChange: (c: FileChange) => void): Promise<void> {
    if (this.#watcher !== undefined) throw new Error('ChokidarFileWatcher.watch: already watching')
    const files = new Set(paths.map((p) => resolve(p)))
    const dirs = new Set([...files].map((f) => dirname(f)))
    for (const f of files) this.#present.set(f, await exists(f))
    const watcher = watch([...dirs], {
      ignoreInitial: true,
      depth: 0,
      // Everything in the directories but the managed files (and the directories themselves).
      ignored: (p: string) => !dirs.has(p) && !files.has(p)
    })
    this.#watcher = watcher
    const poke = (p: string): void => {
      const f = resolve(p)
      if (!files.has(f) || this.#closed) return
      clearTimeout(this.#timers.get(f))
      this.#timers.set(f, setTimeout(() => {
        this.#settle(f, onChange).catch((e: unknown) => {
          this.#onError(new OsPortError('AGT_WATCHER_FAILED', `file watcher: ${(e as Error).message}`, { cause: e }))
        })
      }, this.#debounceMs))
    }
    watcher.on('all', (_event, p) => { poke(p) })
    watcher.on('error', (e) => {
      this.#onError(new OsPortError('AGT_WATCHER_FAILED', `file watcher: ${(e as Error).message}`, { cause: e }))
    })
    await new Promise<void>((resolve) => watcher.once('ready', () => { resolve() }))
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    await this.#watcher?.close()
  }

  async #settle (file: string, onChange: (c: FileChange) => void): Promise<void> {
    this.#timers.delete(file)
    const was = this.#present.get(file) ?? false
    const now = await exists(file)
    // close() may have run while stat was pending: no events after close.
    if (this.#closed) return
    this.#present.set(file, now)
    if (!now && !was) return
    onChange({ path: file, kind: !now ? 'unlink' : was ? 'change' : 'add' })
  }
}
