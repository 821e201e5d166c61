// A scripted HSM migration run for the CLI's tests: the events the orchestrator appends (its own,
// and the phase rollouts' forwarded with their phase) and the node views it keeps (each phase's
// state, restarts, verdict, gate, sealed copy, restart-to-verdict time), over a fake.
import type { HsmMigration, HsmNodePhase } from '../../../../shared/schemas/hsm-migration.js'
import type { Verdict } from '../../../../shared/schemas/verdict.js'
import type { FakeHsmMigrationControl } from '../../../helpers/fake-hsm-migration-control.js'

/** How long a scripted run takes, from its createdAt to its finishedAt. */
export const RUN_MS = 95_500

export function verdict (ok: boolean, at: number): Verdict {
  return {
    ok,
    reason: ok ? 'ready' : 'fatal-line',
    summary: ok ? 'minkms started and is ready' : 'minkms logged a fatal line after the restart',
    baseline: { cursor: 's=1', invocationId: 'inv-0', nRestarts: 0, takenAt: at },
    invocationId: 'inv-1',
    lines: ok ? [{ at: at + 1800, kind: 'ready', message: 'minkms: listening on :7373' }] : [{ at: at + 900, kind: 'fatal', message: 'FATAL: cannot unseal: hsm:minio:minkms: connection refused' }],
    timings: { restartAt: at, readyLineAt: at + 1800, verdictAt: at + 2500 }
  } as Verdict
}

export function phase (ok: boolean, at: number, sealed?: boolean): HsmNodePhase {
  return {
    state: ok ? 'done' : 'reverted',
    restarts: ok ? 1 : 2,
    verdict: verdict(ok, at),
    ...(ok ? { gate: { ok: true, message: 'cluster serves', journal: { ok: true, message: 'ready line' }, internode: { ok: true, message: 'ok', via: 'node2', ms: 12 }, client: { ok: true, message: 'ok', ms: 8 }, writeReady: { ok: true, message: 'ok', ms: 20 }, ...(sealed === undefined ? {} : { hsm: { ok: true, message: 'configured and sealing', ms: 40, name: 'hsm:minio:minkms' } }) } } : {}),
    ...(sealed === undefined ? {} : { sealed }),
    restartToVerdictMs: 2500,
    ...(ok ? {} : { message: 'rolled back to the local HSM by its agent' })
  }
}

/** Runs migration `id` on the fake to its end: both phases over every node, or a canary that fails in phase B. */
export function scriptRun (f: FakeHsmMigrationControl, id: string, end: 'succeeded' | 'failed'): void {
  const m = f.update(id, {}) as HsmMigration
  const nodes = m.nodes.map(n => n.name)
  let at = m.createdAt
  const ev = (e: Parameters<FakeHsmMigrationControl['emit']>[1]): void => { at += 1000; f.emit(id, { ...e, at }) }
  ev({ type: 'provision', phase: 'provision', message: 'enclave keyroll created, Admin identity h1:abc created, key minkms-seal created' })
  f.update(id, { provision: { enclave: 'created', identity: 'created', key: 'created', identityId: 'h1:abc', ms: 310 }, phase: 'preflight' })
  ev({ type: 'preflight', phase: 'preflight', message: 'every node reaches every external server' })
  f.update(id, { phase: 'A', rollouts: { A: 'r1' } })
  ev({ type: 'phase', phase: 'A', message: 'phase A: adding hsm.minio.minkms with the local HSM in place' })
  for (const n of nodes) {
    ev({ type: 'step', phase: 'A', node: n, message: `applying revision 2 on ${n}`, data: { state: 'applying' } })
    ev({ type: 'journal', phase: 'A', node: n, message: 'minkms: listening on :7373' })
    ev({ type: 'gate', phase: 'A', node: n, message: 'external HSM configured and holding a sealed copy' })
    ev({ type: 'step', phase: 'A', node: n, message: `${n} done`, data: { state: 'done' } })
    f.update(id, x => ({ ...x, nodes: x.nodes.map(y => y.name === n ? { ...y, phases: { ...y.phases, A: phase(true, at, true) } } : y) }))
  }
  ev({ type: 'rollout', phase: 'A', message: 'rollout succeeded', data: { state: 'succeeded' } })
  f.update(id, { phase: 'B', rollouts: { A: 'r1', B: 'r2' } })
  ev({ type: 'phase', phase: 'B', message: 'phase B: removing MINIO_KMS_HSM_KEY, canary first' })
  for (const n of end === 'succeeded' ? nodes : nodes.slice(0, 1)) {
    const ok = end === 'succeeded'
    ev({ type: 'step', phase: 'B', node: n, message: `applying revision 3 on ${n}`, data: { state: 'applying' } })
    ev({ type: 'journal', phase: 'B', node: n, message: ok ? 'minkms: listening on :7373' : 'FATAL: cannot unseal: hsm:minio:minkms: connection refused' })
    if (!ok) ev({ type: 'verdict', phase: 'B', node: n, message: 'verdict: minkms logged a fatal line after the restart' })
    ev({ type: 'step', phase: 'B', node: n, message: ok ? `${n} done` : `${n} failed; rolled back by its agent`, data: { state: ok ? 'done' : 'failed' } })
    f.update(id, x => ({ ...x, nodes: x.nodes.map(y => y.name === n ? { ...y, phases: { ...y.phases, B: phase(ok, at) } } : y) }))
  }
  at += 1000
  f.update(id, { phase: end === 'succeeded' ? 'done' : 'B' })
  if (end === 'succeeded') f.setState(id, 'succeeded', 'every node seals its root key on the external HSM alone')
  else f.setState(id, 'failed', 'node1 (the canary of phase B) did not start on the external HSM alone; rolled back; the cluster serves on its local HSM')
  f.update(id, { finishedAt: m.createdAt + RUN_MS })
}
