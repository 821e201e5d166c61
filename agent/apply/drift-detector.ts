// Drift: a managed file whose content is not what the agent last wrote or committed.
// The watcher reports changes; the detector compares content hashes, so the agent's own writes
// (announced through expect() just before they happen) never count as drift. It only reports:
// what to do about drift is the operator's or the coordinator's call.
import type { Clock } from '../../shared/clock.js'
import type { DriftEntry } from '../core.js'
import type { FileStore } from '../os/file-store.js'
import type { FileWatcher } from '../os/file-watcher.js'
import { contentSha } from '../state/agent-state.js'
import { driftFingerprint } from './drift-now.js'
import type { Log, WriteObserver } from './transaction.js'

export interface DriftDeps {
  watcher: FileWatcher
  store: FileStore
  clock: Clock
  log: Log
  fingerprintKey: Uint8Array
  /** Called whenever the set of drifted files changes (metrics). */
  onChange?: (entries: DriftEntry[]) => void
}

/** Watches the managed files and keeps the list of drifted ones. */
export class DriftDetector implements WriteObserver {
  readonly #deps: DriftDeps
  readonly #files: ReadonlyMap<string, string>
  readonly #expected = new Map<string, string>()
  readonly #drift = new Map<string, DriftEntry>()

  /** `files`: logical name → path. */
  constructor (deps: DriftDeps, files: Readonly<Record<string, string>>) {
    this.#deps = deps
    this.#files = new Map(Object.entries(files))
  }

  /** Short keyed fingerprint of a content hash ('' for a missing file). */
  fingerprint (sha: string): string {
    return driftFingerprint(this.#deps.fingerprintKey, sha)
  }

  /**
   * Starts watching. `expected`: name → sha256 of the content the agent committed; a file with no
   * entry adopts its current content (nothing applied yet, so nothing to drift from).
   */
  async start (expected: Readonly<Record<string, string>>): Promise<void> {
    for (const [name, path] of this.#files) {
      const sha = expected[name] ?? await this.#sha(path)
      this.#expected.set(name, sha)
    }
    const byPath = new Map([...this.#files].map(([n, p]) => [p, n]))
    await this.#deps.watcher.watch([...this.#files.values()], (c) => {
      const name = byPath.get(c.path)
      if (name !== undefined) this.check(name).catch((err: unknown) => this.#deps.log.warn({ err, file: name }, 'drift check failed'))
    })
    await Promise.all([...this.#files.keys()].map(async (n) => await this.check(n)))
  }

  async #sha (path: string): Promise<string> {
    const { content } = await this.#deps.store.read(path)
    return contentSha(content)
  }

  /** The agent is about to write this content: it is the new expectation, not drift. */
  expect (name: string, sha: string): void {
    this.#expected.set(name, sha)
    if (this.#drift.delete(name)) this.#deps.onChange?.(this.entries())
  }

  /** Compares `name` on disk with what is expected. */
  async check (name: string): Promise<void> {
    const path = this.#files.get(name)
    const want = this.#expected.get(name)
    if (path === undefined || want === undefined) return
    const sha = await this.#sha(path)
    const before = this.#drift.get(name)
    if (sha === want) {
      if (before !== undefined) { this.#drift.delete(name); this.#deps.onChange?.(this.entries()) }
      return
    }
    const fp = this.fingerprint(sha)
    if (before?.fingerprint === fp) return
    const entry: DriftEntry = { name, path, fingerprint: fp, expected: this.fingerprint(want), since: before?.since ?? this.#deps.clock.now() }
    this.#drift.set(name, entry)
    this.#deps.log.warn({ file: name, path, fingerprint: fp, expected: entry.expected }, 'drift: managed file changed outside keyroll')
    this.#deps.onChange?.(this.entries())
  }

  entries (): DriftEntry[] {
    return [...this.#drift.values()].map((e) => ({ ...e }))
  }

  async close (): Promise<void> {
    await this.#deps.watcher.close()
  }
}
