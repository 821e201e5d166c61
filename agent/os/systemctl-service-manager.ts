// The real ServiceManager: `systemctl` through the project's one process runner.
// D-Bus would avoid the subprocesses, but systemctl is what an operator can re-run by hand, and
// a `systemctl show` costs a few ms (measured on systemd 252 in the lab).
import { ProcessError, stderrOf, type ProcessRunner } from '../../shared/process-runner.js'
import { OsPortError } from '../errors.js'
import type { ServiceManager, UnitStatus } from './service-manager.js'
import { parseUnitStatus, UNIT_PROPERTIES, UnitShowParseError } from './systemctl-show.js'

/** Options of {@link SystemctlServiceManager}. */
export interface SystemctlServiceManagerOptions {
  /** The unit, e.g. `minkms.service`. */
  unit: string
  runner: ProcessRunner
  /** The systemctl binary (default `systemctl`, found on PATH). */
  systemctl?: string
  /** Limit for each systemctl call (default 10 s); systemd answering slower is itself a fault. */
  timeoutMs?: number
}

/** systemctl exits 5 when the unit is not loaded/found (systemctl(1) "Exit status"). */
const EXIT_NOT_FOUND = 5
/** reset-failed's exit is ignored: every code counts as success. */
const ANY_EXIT = Array.from({ length: 256 }, (_, i) => i)

/** Controls one unit with `systemctl`. Safe to call concurrently: each call is its own process. */
export class SystemctlServiceManager implements ServiceManager {
  readonly unit: string
  readonly #runner: ProcessRunner
  readonly #bin: string
  readonly #timeoutMs: number

  constructor (opts: SystemctlServiceManagerOptions) {
    this.unit = opts.unit
    this.#runner = opts.runner
    this.#bin = opts.systemctl ?? 'systemctl'
    this.#timeoutMs = opts.timeoutMs ?? 10_000
  }

  async status (): Promise<UnitStatus> {
    const args = ['show', this.unit, '-p', UNIT_PROPERTIES.join(','), '--no-pager']
    let stdout: string
    try {
      stdout = (await this.#runner.run(this.#bin, args, { timeoutMs: this.#timeoutMs })).stdout
    } catch (e) {
      throw new OsPortError('AGT_UNIT_STATUS_FAILED', `systemctl show ${this.unit} failed: ${(e as Error).message}`,
        { stderr: stderrOf(e), cause: e })
    }
    try {
      return parseUnitStatus(stdout)
    } catch (e) {
      if (!(e instanceof UnitShowParseError)) throw e
      throw new OsPortError('AGT_UNIT_STATUS_FAILED', `${e.message} for ${this.unit}`, { cause: e })
    }
  }

  /**
   * A unit between runs under Restart= (auto-restart, or failed/activating after a crash) has an
   * automatic restart pending. If it fires after the verifier's baseline, its run looks like ours
   * (seen by the benchmark as a false rollback-failed). `stop` cancels the pending job (and stops
   * a run it may just have started); call this BEFORE taking the baseline.
   *
   * A run systemd started by itself (NRestarts > 0) is stopped too, even while it is active: in a
   * crash loop it may exit between this check and our restart, and systemd's automatic restart
   * job then absorbs ours, so the run that follows carries "Scheduled restart job" and a
   * non-zero NRestarts and is never taken as ours (seen once in the lab under load: a verdict
   * `not-started` with only automatic runs). Stopped first, the unit is inactive, nothing is
   * pending, and our restart is a plain manual start. A healthy unit that was restarted by
   * systemd long ago pays one extra systemctl call; it is restarted anyway.
   */
  async prepareRestart (opts: { signal?: AbortSignal } = {}): Promise<void> {
    const base = { timeoutMs: this.#timeoutMs, ...(opts.signal !== undefined && { signal: opts.signal }) }
    const now = await this.status().catch(() => undefined)
    if (now !== undefined && (now.subState === 'auto-restart' || now.activeState === 'failed' || now.activeState === 'activating' || now.nRestarts > 0)) {
      await this.#runner.run(this.#bin, ['--no-ask-password', 'stop', this.unit], { ...base, okCodes: ANY_EXIT }).catch((e: unknown) => {
        opts.signal?.throwIfAborted()
        if (!(e instanceof ProcessError)) throw e
      })
    }
  }

  async restart (opts: { signal?: AbortSignal } = {}): Promise<void> {
    const base = { timeoutMs: this.#timeoutMs, ...(opts.signal !== undefined && { signal: opts.signal }) }
    // A failed unit may have hit its start limit (5 starts in 10 s by default), and then systemd
    // refuses the restart. reset-failed clears that; it exits non-zero when there is nothing to
    // reset (or the unit is unknown: the restart below reports that better), so its exit is ignored.
    try {
      await this.#runner.run(this.#bin, ['--no-ask-password', 'reset-failed', this.unit], { ...base, okCodes: ANY_EXIT })
    } catch (e) {
      opts.signal?.throwIfAborted()
      if (!(e instanceof ProcessError)) throw e
    }
    // --no-block: returns once the job is queued. For Type=simple a blocking restart returns 0
    // even when the process dies at once, so waiting for it would prove nothing; the verifier
    // watches the outcome instead.
    try {
      await this.#runner.run(this.#bin, ['--no-ask-password', 'restart', '--no-block', this.unit], base)
    } catch (e) {
      opts.signal?.throwIfAborted()
      const stderr = stderrOf(e)
      if (e instanceof ProcessError && e.exitCode === EXIT_NOT_FOUND) {
        throw new OsPortError('AGT_UNIT_NOT_FOUND', `unit ${this.unit} not found${stderr ? `: ${stderr}` : ''}`, { stderr, cause: e })
      }
      throw new OsPortError('AGT_UNIT_RESTART_FAILED', `systemctl restart ${this.unit} failed: ${(e as Error).message}`, { stderr, cause: e })
    }
  }
}
