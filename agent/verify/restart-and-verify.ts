// The one restart sequence every caller uses: cancel a pending automatic restart, take the
// baseline, restart, judge. Taking the baseline before prepareRestart() (or skipping it) lets a
// run systemd starts by itself (Restart=) pass for ours: seen as a false rollback-failed in the
// benchmark and a not-started verdict in the lab.
import type { ServiceManager } from '../os/service-manager.js'
import type { RestartBaseline, Verdict, VerifyOptions } from './verdict.js'

/** The verifier as a restart needs it (RestartVerifier). */
export interface BaselineVerifier {
  baseline (): Promise<RestartBaseline>
  verify (baseline: RestartBaseline, opts: VerifyOptions): Promise<Verdict>
}

/** Restarts the unit and returns the verdict on the run that restart started. */
export async function restartAndVerify (service: ServiceManager, verifier: BaselineVerifier, opts: VerifyOptions,
  beforeRestart?: () => Promise<void>): Promise<Verdict> {
  const signal = opts.signal === undefined ? {} : { signal: opts.signal }
  await service.prepareRestart?.(signal)
  const baseline = await verifier.baseline()
  if (beforeRestart !== undefined) await beforeRestart()
  await service.restart(signal)
  return await verifier.verify(baseline, opts)
}
