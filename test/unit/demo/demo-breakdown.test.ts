// The demo's breakdown of a migration's wall time from its events: spans from mark to mark that
// add up to the wall time, each node's parts in order, sums per kind.
import t from 'tap'
import type { HsmMigrationEvent } from '../../../shared/schemas/hsm-migration.js'
import { breakdownLines, migrationBreakdown } from '../../demo/demo-breakdown.js'

let index = 0
function ev (at: number, type: HsmMigrationEvent['type'], message: string, extra: Partial<HsmMigrationEvent> = {}): HsmMigrationEvent {
  return { index: index++, at, type, message, ...extra }
}

function node (phase: 'A' | 'B', name: string, at: number): HsmMigrationEvent[] {
  // applying at +0, restart at +100, verdict at +2100, gating +2150, healthy +2450, done +3450
  return [
    ev(at, 'step', `${name}: applying`, { phase, node: name, data: { state: 'applying' } }),
    ev(at + 2140, 'verdict', `${name}: verdict ok`, { phase, node: name, data: { timings: { restartAt: at + 100, verdictAt: at + 2100 } } }),
    ev(at + 2150, 'step', `${name}: gating`, { phase, node: name, data: { state: 'gating' } }),
    ev(at + 2450, 'step', `${name}: healthy`, { phase, node: name, data: { state: 'healthy' } }),
    ev(at + 3450, 'step', `${name}: done`, { phase, node: name, data: { state: 'done' } })
  ]
}

t.test('the spans add up to the wall time; each kind summed', async (t) => {
  const events = [
    ev(1000, 'migration', 'migration started', { phase: 'provision' }),
    ev(1010, 'provision', 'provisioning', { phase: 'provision' }),
    ev(1300, 'provision', 'provisioned', { phase: 'provision' }),
    ev(1310, 'phase', 'phase preflight', { phase: 'preflight', data: { phase: 'preflight' } }),
    ev(1320, 'preflight', 'preflight from 2 node(s)', { phase: 'preflight' }),
    ev(2000, 'preflight', 'preflight passed on every node', { phase: 'preflight' }),
    ev(2010, 'phase', 'phase A', { phase: 'A', data: { phase: 'A' } }),
    ev(2500, 'phase', 'phase A: rollout r1 (revision 2)', { phase: 'A', data: { phase: 'A', rollout: 'r1', revision: 2 } }),
    ...node('A', 'n1', 2600),
    ...node('A', 'n2', 6100),
    ev(9600, 'phase', 'phase B', { phase: 'B', data: { phase: 'B' } }),
    ev(10000, 'phase', 'every node shows hsm:minio:minkms configured and holding a sealed copy of its root key', { phase: 'B' }),
    ev(10400, 'phase', 'phase B: rollout r2 (revision 3, the first node as a canary)', { phase: 'B', data: { phase: 'B', rollout: 'r2', revision: 3 } }),
    ...node('B', 'n1', 10500),
    ev(13980, 'phase', 'phase B: the canary n1 started on the external HSM alone; promoting', { phase: 'B' }),
    ...node('B', 'n2', 14300),
    ev(17800, 'migration', 'migration succeeded', { phase: 'done' })
  ]
  const b = migrationBreakdown({ createdAt: 1000, finishedAt: 17800, updatedAt: 17800 }, events)
  t.equal(b.totalMs, 16_800, 'the spans add up to finishedAt - createdAt')
  t.same(b.sums, { restart: 8000, gate: 1200, hold: 4000, node: 4 * 100 + 4 * 50 + (100 + 50 + 100 + 320), fixed: 16_800 - 8000 - 1200 - 4000 - 1170 })
  const n2b = b.spans.filter((s) => s.phase === 'B' && s.node === 'n2').map((s) => [s.label, s.ms])
  t.same(n2b, [['prepared after n1 (reads begun as its hold ended)', 320], ['apply up to the restart', 100], ['restart to verdict', 2000],
    ['verdict to the coordinator', 50], ['gate', 300], ['hold', 1000]])
  t.same(b.spans.filter((s) => s.node === undefined).map((s) => [s.label, s.ms]), [
    ['stored, runner started', 10], ['provisioning', 290], ['preflight from every node', 700], ['phase A begins', 10],
    ['revision, plan and start of the rollout', 490], ['phase A\'s rollout ends, phase B begins', 50], ['every node\'s sealed copy checked', 400],
    ['revision, plan and start of the rollout', 400], ['canary done, promoted', 30], ['the last rollout ends, the migration is stored as done', 50]
  ])
  const lines = breakdownLines(b)
  t.match(lines.join('\n'), /phase A n1: first node prepared .* 100 ms, apply up to the restart 100 ms, restart to verdict 2\.0 s, verdict to the coordinator 50 ms, gate 300 ms, hold 1\.0 s/)
  t.match(lines.join('\n'), /total 16\.8 s = 2\.10 × the restarts' 8\.0 s:/)
})

t.test('a node that did not restart has no restart span; an event out of order counts as no time', async (t) => {
  const events = [
    ev(100, 'phase', 'phase A: rollout r1 (revision 2)', { phase: 'A', data: { phase: 'A', rollout: 'r1' } }),
    ev(90, 'step', 'n1: applying', { phase: 'A', node: 'n1', data: { state: 'applying' } }),
    ev(300, 'step', 'n1: gating', { phase: 'A', node: 'n1', data: { state: 'gating' } })
  ]
  const b = migrationBreakdown({ createdAt: 0, updatedAt: 400 }, events)
  t.equal(b.totalMs, 400)
  t.equal(b.sums.restart, 0)
  t.same(b.spans.map((s) => s.ms), [100, 0, 200, 100])
})
