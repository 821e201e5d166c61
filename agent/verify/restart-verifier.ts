// Proves (or disproves) a restart of the unit from the journal, the unit's state and minkms's
// health (DESIGN.md "Verifying a restart"). `systemctl restart` returning 0 proves nothing for
// a Type=simple unit; this is what does.
//
// Usage: `const b = await verifier.baseline(); await service.restart(); const v = await
// verifier.verify(b, opts)`. The baseline must come first: only journal entries after its cursor
// and runs other than its InvocationID can speak for the restart.
import type { Clock } from '../../shared/clock.js'
import { redactText } from '../../shared/secrets/redact-text.js'
import type { Journal } from '../os/journal.js'
import type { ServiceManager } from '../os/service-manager.js'
import { Verification, type VerificationTuning } from './verification.js'
import type { RestartBaseline, Verdict, VerifyOptions } from './verdict.js'

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

/** Takes restart baselines and judges restarts. Safe to use for several verifications at once. */
export class RestartVerifier {
  readonly #deps: Required<RestartVerifierDeps>
  readonly #tuning: VerificationTuning

  constructor (deps: RestartVerifierDeps, tuning: Partial<VerificationTuning> = {}) {
    this.#deps = { redact: (text) => redactText(text, []), ...deps }
    this.#tuning = { ...DEFAULT_TUNING, ...tuning }
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
