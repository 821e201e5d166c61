// Restarts the unit and proves (or disproves) that restart from the journal, the unit's state and
// minkms's health (docs/design.md, "The verdict"). `systemctl restart` returning 0 proves nothing
// for a Type=simple unit; this is what does.
//
// restartAndVerify() is the one restart sequence every caller uses: cancel a pending automatic
// restart, take the baseline, restart, judge. The baseline must come before the restart (only
// journal entries after its cursor and runs other than its InvocationID can speak for it), and
// after the cancel: a run systemd starts by itself (Restart=) would otherwise pass for ours, which
// showed as a false rollback-failed in the benchmark and a not-started verdict in the lab.
import type { Clock } from '../../shared/clock.js'
import { redactText } from '../../shared/secrets/redact-text.js'
import type { Journal } from '../os/journal.js'
import type { ServiceManager } from '../os/service-manager.js'
import { Verification, type VerificationTuning } from './verification.js'
import { MINKMS_FATAL, MINKMS_READY, type RestartBaseline, type Verdict, type VerifyOptions } from './verdict.js'

/** What the verifier works with. */
export interface RestartVerifierDeps {
  service: ServiceManager
  journal: Journal
  clock: Clock
  /**
   * minkms `/v1/health/ready` through the shared minkms client: true for 200. The signal aborts
   * when the probe times out or the verification ends; a probe that ignores it is abandoned.
   */
  health: (signal: AbortSignal) => Promise<boolean>
  /** Masks secrets in quoted journal lines (default: API/HSM key lookalikes, shared/secrets). */
  redact?: (text: string) => string
}

/** Defaults of the poll periods and limits. */
export const DEFAULT_TUNING: Readonly<VerificationTuning> = Object.freeze({
  statusPollMs: 100,
  healthPollMs: 200,
  healthTimeoutMs: 2000,
  followRetryMs: 250,
  tailLines: 10,
  catchUpLimit: 1000
})

/** What a restart is judged by: the window, and the lines (minkms's unless given). */
export type RestartOptions = Pick<VerifyOptions, 'deadlineMs' | 'stableForMs'> & Partial<Pick<VerifyOptions, 'readyPattern' | 'fatalPattern' | 'signal'>>

/** Takes restart baselines and judges restarts. Safe to use for several verifications at once. */
export class RestartVerifier {
  readonly #deps: Required<RestartVerifierDeps>
  readonly #tuning: VerificationTuning

  constructor (deps: RestartVerifierDeps, tuning: Partial<VerificationTuning> = {}) {
    this.#deps = { redact: (text) => redactText(text, []), ...deps }
    this.#tuning = { ...DEFAULT_TUNING, ...tuning }
  }

  /**
   * Restarts the unit and returns the verdict on the run that restart started. `beforeRestart`
   * runs between the baseline and the restart (the transaction records that the unit may now run
   * the new files).
   */
  async restartAndVerify (opts: RestartOptions, beforeRestart?: () => Promise<void>): Promise<Verdict> {
    const { service } = this.#deps
    const signal = opts.signal === undefined ? {} : { signal: opts.signal }
    await service.prepareRestart?.(signal)
    const baseline = await this.baseline()
    if (beforeRestart !== undefined) await beforeRestart()
    await service.restart(signal)
    return await this.verify(baseline, { readyPattern: MINKMS_READY, fatalPattern: MINKMS_FATAL, ...opts })
  }

  /** Journal tail cursor, InvocationID and NRestarts, taken just before the restart. */
  async baseline (): Promise<RestartBaseline> {
    // Cursor first: whatever the unit logs from here on comes after it.
    const cursor = await this.#deps.journal.tailCursor()
    const status = await this.#deps.service.status()
    return { cursor, invocationId: status.invocationId, nRestarts: status.nRestarts, takenAt: this.#deps.clock.now() }
  }

  /**
   * Watches the restart until a verdict: ok only when the new run logged its ready line and no
   * fatal line, runs, answers health 200, and all of that held for `stableForMs`; a failure as
   * soon as it is seen; otherwise at the deadline. Never rejects; never leaves a timer or a
   * journalctl process behind.
   */
  async verify (baseline: RestartBaseline, opts: VerifyOptions): Promise<Verdict> {
    return await new Verification(this.#deps, this.#tuning, baseline, opts).run()
  }
}
