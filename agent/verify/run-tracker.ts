// What the verifier has seen of the restart so far, and what it means. No I/O and no timers:
// the verification feeds it journal entries, unit states and health answers as they come, and
// asks whether our run has failed or is ready right now.
//
// Which lines count. Our run is found by RunTimeline (the run our restart started, not merely
// the first new InvocationID). Journal entries count when their invocation is ours; entries of
// a run not placed yet wait until it is; entries of runs before ours are dropped. Entries with
// no invocation at all count only when they are the unit's own and their _PID is a main PID the
// status polls reported for our run: journald omits the invocation when it could not look up
// the sender (it exited first), and such a line of the old process must not speak for ours.
// Ready and fatal patterns are matched against the unit's own lines only, never systemd's
// messages about it ("Started …", "Main process exited …"), which are kept as context.
//
// NRestarts. A manual restart flushes the counter to 0 (measured on 252: 5 → 0), so "above the
// baseline" is not the test: the floor is the lowest value seen for our run, and anything above
// it means systemd restarted our run by itself.
import type { JournalEntry } from '../os/journal.js'
import type { UnitStatus } from '../os/service-manager.js'
import { RunTimeline, type RunInfo } from './run-timeline.js'
import type { EvidenceLine, RestartBaseline } from './verdict.js'

/** systemd's catalogue: "Started <unit>" and "Scheduled restart job, restart counter is at N". */
export const MESSAGE_ID_STARTED = '39f53479d3a045ac8e11786248231fbf'
export const MESSAGE_ID_RESTART_SCHEDULED = '5eb03494b6584870a536b337290809b3'

/** Journal lines held per run while it is not placed (a run logs little before systemd places it). */
const PENDING_LIMIT = 500

/** A reason our run has failed, detected as soon as it is seen. */
export interface RunFailure {
  reason: 'fatal-line' | 'unit-failed' | 'process-exited'
  /** What was seen, for the summary ("NRestarts 0 → 1", "Result=exit-code, exit status 1"). */
  detail: string
}

/** Options of {@link RunTracker}. */
export interface RunTrackerOptions {
  readyPattern: RegExp
  fatalPattern: RegExp
  /** Lines of our run kept for the evidence of a failure. */
  tailLines: number
  /** Masks secrets in quoted lines (the banner prints the root API key). */
  redact: (text: string) => string
}

/** A regex safe to `test` repeatedly (a /g or /y one keeps lastIndex between calls). */
function stateless (re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re
}

/** Observations of one restart. */
export class RunTracker {
  readonly timeline: RunTimeline
  readyLine: EvidenceLine | undefined
  fatalLine: EvidenceLine | undefined
  /** The last lines of our run (and of runs after it), oldest first. */
  readonly tail: EvidenceLine[] = []
  status: UnitStatus | undefined
  statusError: string | undefined
  health: { ok: boolean, at: number, error?: string } | undefined
  /** Wall ms of the first health 200 of our run. */
  healthyAt: number | undefined
  /** Wall ms our run was seen failed or exited. */
  failedAt: number | undefined
  /** The first failure seen; later ones do not replace it. */
  failure: RunFailure | undefined
  /** Everything held at least once (then a deadline verdict is `unstable`, not `not-ready`). */
  everReady = false
  /** Cursor of the last journal entry seen: where a catch-up read or a re-follow resumes. */
  lastCursor: string | undefined
  readonly #ready: RegExp
  readonly #fatal: RegExp
  readonly #tailLines: number
  readonly #redact: (text: string) => string
  readonly #seen = new Set<string>()
  readonly #pids = new Set<number>()
  readonly #pending = new Map<string, JournalEntry[]>()
  #restartsFloor: number | undefined
  /** A "Scheduled restart job" line came after the last "Started" line. */
  #autoRestartScheduled = false

  constructor (baseline: RestartBaseline, opts: RunTrackerOptions) {
    this.timeline = new RunTimeline(baseline.invocationId)
    this.#ready = stateless(opts.readyPattern)
    this.#fatal = stateless(opts.fatalPattern)
    this.#tailLines = opts.tailLines
    this.#redact = opts.redact
  }

  /** Our run's InvocationID, '' while it is not known. */
  get invocationId (): string {
    return this.timeline.ours?.id ?? ''
  }

  /** Wall ms our run started (its "Started" line), or when it was first seen running. */
  get invocationAt (): number | undefined {
    const ours = this.timeline.ours
    return ours === undefined ? undefined : ours.startedAt ?? ours.minHi
  }

  /** Runs systemd started by itself, not ours (a crash loop going on when we restarted). */
  get autoRuns (): number {
    return this.timeline.runs.filter((r) => r.kind !== 'ours' && r.manual === false).length
  }

  /** A journal entry after the baseline cursor. Duplicates (a catch-up read) are ignored. */
  onEntry (e: JournalEntry): void {
    if (this.#seen.has(e.cursor)) return
    this.#seen.add(e.cursor)
    this.lastCursor = e.cursor
    const at = e.realtimeUs / 1000
    const inv = e.invocationId
    if (e.origin === 'manager' && e.messageId === MESSAGE_ID_RESTART_SCHEDULED) this.#autoRestartScheduled = true
    let changed: RunInfo[] = []
    if (e.origin === 'manager' && e.messageId === MESSAGE_ID_STARTED) {
      const manual = !this.#autoRestartScheduled
      this.#autoRestartScheduled = false
      if (inv !== undefined) changed = this.timeline.observe(inv, at, at, { manual, from: 'journal', startedAt: at })
    } else if (inv !== undefined) {
      changed = this.timeline.observe(inv, at, at)
    }
    this.#route(e)
    this.#placed(changed, at)
  }

  /** A status poll's answer; the poll was issued at wall ms `lo` and answered at `hi`. */
  onStatus (s: UnitStatus, lo: number, hi: number): void {
    this.status = s
    this.statusError = undefined
    // The start limit refuses a start before any new run exists: no new InvocationID appears,
    // so this is the one failed state that counts whatever run it names.
    if (s.activeState === 'failed' && s.result === 'start-limit-hit') {
      this.#fail({ reason: 'unit-failed', detail: 'systemd refused to start it (start-limit-hit)' }, hi)
      return
    }
    this.#placed(this.timeline.observe(s.invocationId, lo, hi, { manual: s.nRestarts === 0, from: 'status' }), hi)
    // Until the restart job runs, systemd still shows the old run: nothing to judge yet.
    if (this.timeline.kindOf(s.invocationId) !== 'ours') return
    if (s.mainPid > 0) this.#pids.add(s.mainPid)
    if (this.#restartsFloor !== undefined && s.nRestarts > this.#restartsFloor) {
      this.#fail({ reason: 'process-exited', detail: `systemd restarted it by itself (NRestarts ${this.#restartsFloor} → ${s.nRestarts})` }, hi)
    }
    this.#restartsFloor = Math.min(this.#restartsFloor ?? s.nRestarts, s.nRestarts)
    if (s.activeState === 'failed') {
      this.#fail({ reason: 'unit-failed', detail: `Result=${s.result}, exit status ${s.execMainStatus}` }, hi)
    } else if (s.subState === 'auto-restart' || (s.activeState === 'inactive' && s.subState === 'dead')) {
      this.#fail({ reason: 'process-exited', detail: `its main process exited (status ${s.execMainStatus}, ${s.activeState}/${s.subState})` }, hi)
    }
  }

  /** A status poll failed (systemd unreachable); kept for the summary. */
  onStatusError (message: string): void {
    this.statusError = message
  }

  /** A health probe's answer at wall ms `at`. */
  onHealth (ok: boolean, at: number, error?: string): void {
    this.health = { ok, at, ...(error !== undefined && { error }) }
    if (ok && this.healthyAt === undefined && this.timeline.ours !== undefined) this.healthyAt = at
  }

  /** The old process is gone (our run is active, or it logged its ready line): probing means something. */
  get healthEligible (): boolean {
    if (this.readyLine !== undefined) return true
    const s = this.status
    return s !== undefined && this.timeline.kindOf(s.invocationId) === 'ours' && s.activeState === 'active'
  }

  /** Everything an ok verdict needs holds now: our run, its ready line, no failure, running, health 200. */
  get readyNow (): boolean {
    const s = this.status
    return this.failure === undefined && this.readyLine !== undefined &&
      s !== undefined && s.invocationId === this.invocationId && s.activeState === 'active' && s.subState === 'running' &&
      this.health?.ok === true
  }

  /** What an ok verdict still lacks, for a `not-ready`/`unstable` summary. */
  missing (): string[] {
    const out: string[] = []
    if (this.readyLine === undefined) out.push('no ready line')
    const s = this.status
    if (s === undefined) out.push(`unit state unknown${this.statusError !== undefined ? ` (${this.statusError})` : ''}`)
    else if (s.activeState !== 'active' || s.subState !== 'running') out.push(`unit ${s.activeState}/${s.subState}`)
    if (this.health === undefined) out.push('health never probed')
    else if (!this.health.ok) out.push(`health not 200 (${this.health.error ?? 'not ready'})`)
    return out
  }

  /** Where an entry goes: ours → judged; not placed yet → held; after ours → context; else dropped. */
  #route (e: JournalEntry): void {
    const own = e.origin === undefined || e.origin === 'unit'
    const inv = e.invocationId
    const kind = inv !== undefined
      ? this.timeline.kindOf(inv)
      : own && e.pid !== undefined && this.#pids.has(e.pid) ? 'ours' : undefined
    if (kind === 'ours') this.#take(e)
    else if (kind === 'after') this.#keep(this.#line(e, 'other'))
    else if (kind === 'pending' && inv !== undefined) {
      const held = this.#pending.get(inv) ?? []
      if (held.length < PENDING_LIMIT) held.push(e)
      this.#pending.set(inv, held)
    }
  }

  /** Runs the timeline just placed: our run's held lines are judged; a run after ours is a failure. */
  #placed (changed: RunInfo[], at: number): void {
    for (const run of changed) {
      const held = this.#pending.get(run.id) ?? []
      this.#pending.delete(run.id)
      if (run.kind === 'ours') {
        for (const e of held) this.#take(e)
      } else if (run.kind === 'after') {
        for (const e of held) this.#keep(this.#line(e, 'other'))
        this.#fail({ reason: 'process-exited', detail: `another run started (invocation ${run.id.slice(0, 8)}…)` }, run.startedAt ?? at)
      }
    }
  }

  /** A line of our run: matched against the fatal and ready patterns. */
  #take (e: JournalEntry): void {
    const own = e.origin === undefined || e.origin === 'unit'
    const kind = !own ? 'other' : this.#fatal.test(e.message) ? 'fatal' : this.#ready.test(e.message) ? 'ready' : 'other'
    const line = this.#line(e, kind)
    this.#keep(line)
    if (kind === 'fatal' && this.fatalLine === undefined) {
      this.fatalLine = line
      this.#fail({ reason: 'fatal-line', detail: line.message })
    }
    if (kind === 'ready' && this.readyLine === undefined) this.readyLine = line
  }

  #line (e: JournalEntry, kind: EvidenceLine['kind']): EvidenceLine {
    const invocationId = e.invocationId ?? this.invocationId
    return { at: e.realtimeUs / 1000, message: this.#redact(e.message), kind, ...(invocationId !== '' && { invocationId }) }
  }

  #keep (line: EvidenceLine): void {
    this.tail.push(line)
    if (this.tail.length > this.#tailLines) this.tail.shift()
  }

  #fail (f: RunFailure, at?: number): void {
    if (at !== undefined && f.reason !== 'fatal-line') this.failedAt ??= at
    this.failure ??= f
  }
}
