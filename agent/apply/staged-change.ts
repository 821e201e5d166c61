// The change staged on this node: an apply planned under the lock and kept for a later commit
// (POST /v1/stage, /v1/stage/commit; shared/schemas/staged.ts). It lives in this process's memory
// only, never on disk: its new file contents may hold secrets (an API key, the HSM key), and a
// staged change that outlived the process would be run on files nobody re-checked. An agent
// restart therefore forgets it, and the caller gets AGT_NOT_STAGED and applies the ordinary way.
//
// What touches the files without going through it: boot convergence, crash recovery and the
// drift detector all ignore the staged change. They need not know about it: every one of them
// either changes the files or the applied revision (convergence, recovery) or reports someone
// who did (drift), and a commit compares both with what the staged change was planned on, so a
// staged change overtaken by any of them is refused as AGT_STAGED_STALE instead of being run.
import type { Change } from '../../shared/change/change.js'
import type { StagedChange } from '../../shared/schemas/staged.js'
import type { FileMeta } from '../os/file-store.js'
import type { ChangeHash, PlannedChange } from './change-applier.js'

/** A managed file as the staged change was planned on it. */
export interface StagedBase {
  name: string
  path: string
  /** contentSha of the content then ('' when the file did not exist). */
  sha: string
  meta: FileMeta | undefined
}

/** Everything a commit needs to run the transaction without planning again. */
export interface Staged {
  change: Change
  planned: PlannedChange
  /** The applied revision and change hash it was planned on (undefined: none committed). */
  applied: ChangeHash | undefined
  /** Every managed file as it was when planned. */
  base: StagedBase[]
  stagedAt: number
  expiresAt: number
}

/** Default lifetime of a staged change: long enough to stage a whole cluster, short enough that a forgotten one does not linger. */
export const DEFAULT_STAGED_TTL_MS = 10 * 60_000

/** The one staged change of the node (a new stage replaces it); expiry is checked against `now`. */
export class StagedSlot {
  #staged: Staged | undefined
  #timer: NodeJS.Timeout | undefined

  /** The staged change, or undefined (an expired one is dropped here). */
  current (now: number): Staged | undefined {
    if (this.#staged !== undefined && this.#staged.expiresAt <= now) this.take()
    return this.#staged
  }

  /** Keeps `s`, replacing any change staged before. */
  put (s: Staged, ttlMs: number): void {
    this.take()
    this.#staged = s
    // Drops the contents from memory at expiry even when nobody asks; unref: never keeps the process up.
    // (A timer longer than 2^31-1 ms would fire at once: clamped, the lazy check in current() still holds.)
    this.#timer = setTimeout(() => { if (this.#staged === s) this.take() }, Math.min(ttlMs, 2 ** 31 - 1))
    this.#timer.unref()
  }

  /** Removes and returns the staged change, if any. */
  take (): Staged | undefined {
    const s = this.#staged
    this.#staged = undefined
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    return s
  }
}

/** The wire view of a staged change: revision, hash, times and the plan (its diffs are masked). */
export function stagedView (s: Staged): StagedChange {
  return { revision: s.change.revision, changeHash: s.planned.changeHash, stagedAt: s.stagedAt, expiresAt: s.expiresAt, plan: s.planned.view }
}
