// The coordinator's own unit on `coord` as crash tests see it: its current run (InvocationID,
// MainPID, NRestarts) and a crash, SIGKILL to the whole unit, after which systemd restarts it
// (Restart=always) and the test waits until it is ready again, i.e. until it resumed its work.
import type { KeyrollLab } from './keyroll-lab.js'
import { COORDINATOR_UNIT } from './lab-keyroll.js'
import type { Lab } from './start-lab.js'

/** The coordinator unit's current run. */
export interface UnitRun { invocation: string, mainPid: number, active: string, restarts: number }

export async function coordinatorRun (lab: Lab): Promise<UnitRun> {
  const r = await lab.systemctl('coord', 'show', '-p', 'InvocationID', '-p', 'MainPID', '-p', 'ActiveState', '-p', 'NRestarts', COORDINATOR_UNIT)
  const p = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  return { invocation: p.InvocationID ?? '', mainPid: Number(p.MainPID ?? 0), active: p.ActiveState ?? '', restarts: Number(p.NRestarts ?? 0) }
}

/** What one kill measured: kill → systemd's new run of the unit, kill → /health/ready 200. */
export interface Crash { before: UnitRun, after: UnitRun, restartMs: number, readyMs: number }

/**
 * Crashes the coordinator: SIGKILL to every process of the unit's cgroup (no shutdown code runs),
 * then waits for systemd to start it again (a new InvocationID and MainPID) and for it to answer
 * /health/ready, which it does only after it resumed every unfinished rollout.
 */
export async function crashCoordinator (lab: Lab, kr: KeyrollLab): Promise<Crash> {
  const before = await coordinatorRun(lab)
  const t0 = Date.now()
  const kill = await lab.systemctl('coord', 'kill', '--signal=SIGKILL', COORDINATOR_UNIT)
  if (kill.code !== 0) throw new Error(`systemctl kill: ${kill.code} ${kill.stderr}`)
  const after = await lab.waitFor(async () => {
    const r = await coordinatorRun(lab)
    return r.invocation !== before.invocation && r.active === 'active' && r.mainPid > 0 && r.mainPid !== before.mainPid ? r : undefined
  }, { timeoutMs: 60_000, intervalMs: 50, what: 'systemd to restart keyroll-coordinator' })
  const restartMs = Date.now() - t0
  await lab.waitFor(async () => (await kr.call('GET', '/health/ready', undefined, { as: 'none' })).status === 200,
    { timeoutMs: 60_000, intervalMs: 50, what: 'the restarted coordinator to answer /health/ready 200' })
  return { before, after, restartMs, readyMs: Date.now() - t0 }
}
