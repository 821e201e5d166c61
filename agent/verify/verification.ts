// One run of RestartVerifier.verify: concurrent watchers feeding a RunTracker, and the rules
// that turn its observations into an outcome.
//
//  - journal: follows the unit from the baseline cursor (re-follows from the last entry seen if
//    journalctl dies). Entries arrive ~250 ms after they were written (journald batches its
//    change notifications), so it is not the fastest way to see a failure, but it is the only
//    source of the ready and fatal lines.
//  - status: `systemctl show` every ~100 ms: the new InvocationID, failed, exited, NRestarts.
//  - health: minkms /v1/health/ready every ~200 ms once the old process is gone (the new run is
//    active or logged its ready line); probed at once when that first becomes true.
//  - deadline: one timer.
// Every observation re-evaluates. A failure decides at once. When everything holds, a stability
// window starts; anything that stops holding restarts it (a health 503 mid-window is "not yet
// stable", not a failure); at its end state, health and the journal are checked afresh and the
// verdict is ok only if all still hold. Nothing outlives run(): every loop, timer and journalctl
// child hangs off one AbortController that is aborted, and awaited, before run() returns.
import type { Clock } from '../../shared/clock.js'
import type { Journal } from '../os/journal.js'
import type { ServiceManager } from '../os/service-manager.js'
import { Napper } from './napper.js'
import { RunTracker } from './run-tracker.js'
import { buildVerdict, type Outcome } from './verdict-builder.js'
import type { RestartBaseline, Verdict, VerifyOptions } from './verdict.js'
import { errText } from '../../shared/error-text.js'

/** What a verification needs. */
export interface VerificationDeps {
  service: ServiceManager
  journal: Journal
  clock: Clock
  health: (signal: AbortSignal) => Promise<boolean>
  redact: (text: string) => string
}

/** Poll periods and limits, in ms. */
export interface VerificationTuning {
  statusPollMs: number
  healthPollMs: number
  /** A probe that has not answered by then counts as not ready. */
  healthTimeoutMs: number
  /** Pause before following the journal again after journalctl died. */
  followRetryMs: number
  /** Lines of the new run quoted on failure. */
  tailLines: number
  /** Entries read at most by one catch-up read. */
  catchUpLimit: number
}

/** A single verify() call. Use once. */
export class Verification {
  readonly #d: VerificationDeps
  readonly #t: VerificationTuning
  readonly #baseline: RestartBaseline
  readonly #opts: VerifyOptions
  readonly #tracker: RunTracker
  readonly #ac = new AbortController()
  readonly #tasks: Array<Promise<unknown>> = []
  readonly #healthNap: Napper
  #outcome: Outcome | undefined
  #decided!: (o: Outcome) => void
  #readySince: number | undefined
  #window: AbortController | undefined
  #healthWokenFor = ''
  #journalError: string | undefined

  constructor (deps: VerificationDeps, tuning: VerificationTuning, baseline: RestartBaseline, opts: VerifyOptions) {
    this.#d = deps
    this.#t = tuning
    this.#baseline = baseline
    this.#opts = opts
    this.#tracker = new RunTracker(baseline, { readyPattern: opts.readyPattern, fatalPattern: opts.fatalPattern, tailLines: tuning.tailLines, redact: deps.redact })
    this.#healthNap = new Napper(deps.clock, this.#ac.signal)
  }

  async run (): Promise<Verdict> {
    const { clock } = this.#d
    const decided = new Promise<Outcome>((resolve) => { this.#decided = resolve })
    // The deadline counts from the baseline (≈ the restart request), not from this call.
    const deadlineIn = Math.max(0, this.#opts.deadlineMs - Math.max(0, clock.now() - this.#baseline.takenAt))
    const onAbort = (): void => { this.#decide('aborted') }
    const signal = this.#opts.signal
    if (signal?.aborted === true) this.#decide('aborted')
    else {
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#tasks.push(this.#followJournal(), this.#pollStatus(), this.#pollHealth(), this.#deadline(deadlineIn))
    }
    let outcome: Outcome
    try {
      outcome = await decided
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.#ac.abort()
      this.#window?.abort()
      await Promise.allSettled(this.#tasks)
    }
    // A failure seen by a status poll is ~250 ms ahead of the journal follower; one direct read
    // (journald wrote the lines long before it notified) brings the run's last lines, often the
    // FATAL line that explains the exit, into the evidence.
    if (outcome === 'failed' || outcome === 'deadline') {
      await Promise.allSettled([this.#catchUp(), this.#freshStatus()])
    }
    return buildVerdict({
      unit: this.#d.service.unit,
      baseline: this.#baseline,
      tracker: this.#tracker,
      outcome,
      stableForMs: this.#opts.stableForMs,
      deadlineMs: this.#opts.deadlineMs,
      verdictAt: clock.now(),
      journalError: this.#journalError
    })
  }

  #decide (o: Outcome): void {
    if (this.#outcome !== undefined) return
    this.#outcome = o
    this.#decided(o)
  }

  /** Re-judges after any observation. */
  #evaluate (): void {
    if (this.#outcome !== undefined) return
    const t = this.#tracker
    if (t.failure !== undefined) {
      this.#decide('failed')
      return
    }
    // Probe health at once when it first makes sense, and again when the ready line arrives.
    const wakeKey = t.healthEligible ? (t.readyLine !== undefined ? 'ready' : 'active') : ''
    if (wakeKey !== '' && wakeKey !== this.#healthWokenFor) {
      this.#healthWokenFor = wakeKey
      this.#healthNap.wake()
    }
    if (t.readyNow) {
      if (this.#readySince === undefined) this.#startWindow()
    } else if (this.#readySince !== undefined) {
      this.#readySince = undefined
      this.#window?.abort()
    }
  }

  #startWindow (): void {
    const { clock } = this.#d
    this.#tracker.everReady = true
    this.#readySince = clock.monotonic()
    const window = new AbortController()
    this.#window = window
    const stop = (): void => { window.abort() }
    this.#ac.signal.addEventListener('abort', stop, { once: true })
    this.#tasks.push((async () => {
      try {
        await clock.sleep(this.#opts.stableForMs, window.signal)
        await this.#confirm()
        this.#evaluate()
        if (!window.signal.aborted && this.#tracker.readyNow) this.#decide('ready')
      } catch {
        // window reset or verification over
      } finally {
        this.#ac.signal.removeEventListener('abort', stop)
      }
    })())
  }

  /** End of the window: state, health and the journal, all asked afresh. */
  async #confirm (): Promise<void> {
    await Promise.allSettled([this.#freshStatus(), this.#probe(), this.#catchUp()])
  }

  async #freshStatus (): Promise<void> {
    try {
      const issued = this.#d.clock.now()
      const status = await this.#d.service.status()
      this.#tracker.onStatus(status, issued, this.#d.clock.now())
    } catch (e) {
      this.#tracker.onStatusError(errText(e))
    }
  }

  async #catchUp (): Promise<void> {
    try {
      const entries = await this.#d.journal.read({
        unit: this.#d.service.unit,
        afterCursor: this.#tracker.lastCursor ?? this.#baseline.cursor,
        limit: this.#t.catchUpLimit
      })
      for (const e of entries) this.#tracker.onEntry(e)
    } catch (e) {
      this.#journalError ??= errText(e)
    }
  }

  async #followJournal (): Promise<void> {
    const signal = this.#ac.signal
    const nap = new Napper(this.#d.clock, signal)
    while (!signal.aborted) {
      try {
        const entries = this.#d.journal.follow({ unit: this.#d.service.unit, afterCursor: this.#tracker.lastCursor ?? this.#baseline.cursor, signal })
        for await (const e of entries) {
          this.#tracker.onEntry(e)
          this.#evaluate()
        }
      } catch (e) {
        if (signal.aborted) return
        this.#journalError = errText(e)
      }
      await nap.nap(this.#t.followRetryMs)
    }
  }

  async #pollStatus (): Promise<void> {
    const nap = new Napper(this.#d.clock, this.#ac.signal)
    while (!this.#ac.signal.aborted) {
      await this.#freshStatus()
      this.#evaluate()
      await nap.nap(this.#t.statusPollMs)
    }
  }

  async #pollHealth (): Promise<void> {
    while (!this.#ac.signal.aborted) {
      if (this.#tracker.healthEligible) {
        await this.#probe()
        // Healthy but no ready line yet: read the journal directly rather than trust the follower
        // alone (it lags ~250 ms by design, and a sandbox can silence it; see systemd/README.md).
        if (this.#tracker.health?.ok === true && this.#tracker.readyLine === undefined) await this.#catchUp()
        this.#evaluate()
      }
      await this.#healthNap.nap(this.#t.healthPollMs)
    }
  }

  /** One health probe, bounded by healthTimeoutMs; its signal aborts on timeout and at the end. */
  async #probe (): Promise<void> {
    const { clock } = this.#d
    const probe = new AbortController()
    const stop = (): void => { probe.abort() }
    this.#ac.signal.addEventListener('abort', stop, { once: true })
    const timeout = clock.sleep(this.#t.healthTimeoutMs, probe.signal)
      .then(() => { throw new Error(`no answer within ${this.#t.healthTimeoutMs} ms`) })
    try {
      const ok = await Promise.race([this.#d.health(probe.signal), timeout])
      if (!this.#ac.signal.aborted) this.#tracker.onHealth(ok, clock.now(), ok ? undefined : 'not ready')
    } catch (e) {
      if (!this.#ac.signal.aborted) this.#tracker.onHealth(false, clock.now(), errText(e))
    } finally {
      this.#ac.signal.removeEventListener('abort', stop)
      probe.abort()
      await timeout.catch(() => {})
    }
  }

  async #deadline (ms: number): Promise<void> {
    try {
      await this.#d.clock.sleep(ms, this.#ac.signal)
      this.#decide('deadline')
    } catch {
      // decided before the deadline
    }
  }
}
