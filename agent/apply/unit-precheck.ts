// Before a change that restarts the unit writes anything: systemd must answer and know the unit.
// Otherwise the files would be written, the restart would fail, and the node would go through a
// rollback for a cause that was visible before the first byte was written.
import type { ServiceManager } from '../os/service-manager.js'
import { UnitNotRestartableError } from '../errors.js'

/** What stands in the way of restarting `service.unit`, or undefined when nothing does. */
export async function unitProblem (service: ServiceManager): Promise<string | undefined> {
  let loadState: string
  try {
    loadState = (await service.status()).loadState
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')
    return `systemd cannot be asked about ${service.unit} (${why}); ` +
      'run the agent on a host where systemd is PID 1 and systemctl works, or use restart: never'
  }
  if (loadState === 'loaded') return undefined
  return `${service.unit} is ${loadState === '' ? 'not loaded' : loadState} in systemd; ` +
    'install the unit (systemctl daemon-reload) or set `unit` in the agent config to the unit that runs minkms'
}

/** Refuses (409, nothing touched) a restart that cannot happen. */
export async function assertUnitRestartable (service: ServiceManager): Promise<void> {
  const problem = await unitProblem(service)
  if (problem !== undefined) throw new UnitNotRestartableError(service.unit, problem)
}
