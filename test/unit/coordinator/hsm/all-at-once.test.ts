// The all-at-once phase B over fakes: phase B's change staged on every node, committed on all of
// them at once, judged per node and as a cluster, every node rolled back together when anything
// fails; its refusals; the write-outage window; a coordinator restarted while the commits ran.
import t from 'tap'
import type { MemberView } from '../../../../coordinator/ports/cluster-probe.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { migrationReport } from '../../../../coordinator/cli/migration-report.js'
import type { HsmMigration } from '../../../../shared/schemas/hsm-migration.js'
import { ended, harness, sealEverywhere, type Harness } from './harness.js'

const allAtOnce = { phaseB: 'all-at-once' as const, allowWriteOutage: true }

function ops (h: Harness, op: string): string[] {
  return h.agents.calls.filter((c) => c.op === op).map((c) => c.node)
}

/** A hold the test releases. */
function held (): { hold: Promise<void>, release: () => void } {
  let release = (): void => {}
  const hold = new Promise<void>((resolve) => { release = resolve })
  return { hold, release }
}

/** Everything the migration left anywhere, to grep for secrets. */
async function everything (h: Harness, id: string, m: HsmMigration): Promise<string> {
  return JSON.stringify({ m, events: await h.hsm.events(id), audit: await h.rollouts.audit(), stored: await h.store.getMigration(id), report: migrationReport(m) })
}

t.test('every node staged, then committed at once: done, each node judged, the write outage measured', async (t) => {
  const h = harness(t, { engineStaging: false })
  sealEverywhere(h)
  const holds = h.nodes.map(() => held())
  h.nodes.forEach((n, i) => h.agents.script(n, 'commitStaged', { outcome: 'ok', hold: holds[i]?.hold ?? Promise.resolve() }))
  const answer = await h.hsm.start(h.request({ ...allAtOnce, revealApiKey: true }))
  const id = answer.migration?.id ?? ''
  t.equal(answer.migration?.phaseB, 'all-at-once', 'the view shows the mode')

  // Every commit is in flight, each node in its transaction, before any answered.
  await h.clock.advanceUntil(() => ops(h, 'commitStaged').length === 3, { stepMs: 500, maxMs: 900_000 })
  t.same(ops(h, 'stage').sort(), ['node1', 'node2', 'node3'], 'staged on every node first')
  t.same(h.nodes.map((n) => h.agents.node(n).locked), [true, true, true], 'all three commits in flight at once')
  const during = await h.hsm.get(id)
  t.equal(during?.phaseBStep, 'committing', 'stored as committing before the answers')
  t.equal((await h.store.getMigration(id))?.work.allAtOnce?.step, 'committing')
  // The nodes are down while they restart; writes come back once every one is up again.
  for (const n of h.nodes) h.probe.setUp(n, false)
  await h.clock.advance(3000)
  for (const n of h.nodes) h.probe.setUp(n, true)
  for (const x of holds) x.release()

  const m = await h.until(id, ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.equal(m.phase, 'done')
  t.equal(m.rollouts.B, undefined, 'no rollout in phase B')
  t.same(ops(h, 'commitStaged').sort(), ['node1', 'node2', 'node3'])
  t.same(ops(h, 'rollback'), [], 'nothing rolled back')
  for (const n of m.nodes) {
    const b = n.phases.B
    t.equal(b?.state, 'done', `${n.name} phase B done`)
    t.equal(b?.restarts, 1, `${n.name} restarted once in B`)
    t.equal(b?.verdict?.ok, true, `${n.name}: its verdict`)
    t.equal(b?.gate?.ok, true, `${n.name}: its gate`)
    t.equal(b?.gate?.journal?.ok, true, `${n.name}: the coordinator's own journal reading`)
    t.type(b?.restartToVerdictMs, 'number')
  }
  const revisionB = (await h.store.getMigration(id))?.work.revisionB
  t.same(h.nodes.map((n) => h.agents.node(n).applied), [revisionB, revisionB, revisionB], 'every node on phase B\'s revision')
  t.ok(m.writeOutage !== undefined && m.writeOutage.ms >= 3000 && !m.writeOutage.rolledBack, `the write outage measured: ${m.writeOutage?.ms ?? '?'} ms`)
  t.equal(m.writeOutage?.from !== undefined && m.writeOutage.to - m.writeOutage.from, m.writeOutage?.ms)
  const report = migrationReport(m)
  t.equal(report.writeOutageMs, m.writeOutage?.ms, 'in the report')
  t.equal(report.phaseB, 'all-at-once')
  t.same(report.nodes.map((n) => n.phases.B?.verdict), ['ready', 'ready', 'ready'], 'the report reads as the rolling one')
  const events = await h.hsm.events(id)
  t.ok(events.some((e) => e.type === 'phase' && (e.data as { writeOutage?: { ms: number } } | undefined)?.writeOutage?.ms === m.writeOutage?.ms), 'an event carries the window')
  t.ok(events.some((e) => e.phase === 'B' && e.type === 'journal'), 'the journals read by the coordinator are events')
  const all = await everything(h, id, m)
  t.notOk(all.includes(h.adminKey), 'the admin key is nowhere in clear')
  t.notOk(all.includes(answer.apiKey ?? 'x'), 'the API key is nowhere in clear')
})

t.test('refused at once without allowWriteOutage, and with keepLocalHsm: nothing stored, no node asked', async (t) => {
  const h = harness(t, { engineStaging: false })
  await t.rejects(h.hsm.start(h.request({ phaseB: 'all-at-once' })), {
    code: 'CRD_HSM_WRITE_OUTAGE',
    message: /restarts every node together: the cluster accepts no writes, and reads fail, until every node is back .*measures that window.*allowWriteOutage: true \(keyroll hsm migrate … --phase-b all-at-once --allow-write-outage\)/
  })
  await t.rejects(h.hsm.start(h.request({ phaseB: 'all-at-once', dryRun: true })), { code: 'CRD_HSM_WRITE_OUTAGE' }, 'a dry run too')
  await t.rejects(h.hsm.start(h.request({ ...allAtOnce, keepLocalHsm: true })), { code: 'CRD_BAD_INPUT', message: /keepLocalHsm .* skips phase B/ })
  t.same(await h.hsm.list(), [], 'nothing stored')
  t.same(h.agents.calls.filter((c) => c.op !== 'status' && c.op !== 'preflightExternalKms'), [], 'no node changed')
})

t.test('a node refuses the staging: the staged change discarded everywhere, nothing committed', async (t) => {
  const h = harness(t, { engineStaging: false })
  sealEverywhere(h)
  h.agents.script(h.nodes[1]!, 'stage', { fail: 'agent-error', code: 'AGT_CHANGE_CONFLICT', message: 'another change is in progress on this node' })
  const { migration } = await h.hsm.start(h.request(allAtOnce))
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.equal(m.phase, 'B')
  t.match(m.message, /^phase B failed \(all at once\): staging was refused on node2: .*AGT_CHANGE_CONFLICT.*another change is in progress.*; the staged change was discarded on every node, and no node was written or restarted$/)
  t.same(ops(h, 'commitStaged'), [], 'no commit sent')
  t.same(ops(h, 'discardStaged').sort(), ['node1', 'node2', 'node3'])
  t.same(h.nodes.map((n) => h.agents.staged(n)), [undefined, undefined, undefined], 'nothing left staged')
  t.same(h.nodes.map((n) => h.agents.node(n).restarts), [1, 1, 1], 'phase A\'s restart only')
  t.same(m.nodes.map((n) => n.phases.B?.state), ['skipped', 'skipped', 'skipped'])
})

t.test('one node rolled back by its agent: every other node rolled back with it, the cluster serves again', async (t) => {
  const h = harness(t, { engineStaging: false })
  sealEverywhere(h)
  h.agents.script(h.nodes[1]!, 'commitStaged', { outcome: 'rolled-back' })
  const { migration } = await h.hsm.start(h.request(allAtOnce))
  const id = migration?.id ?? ''
  const m = await h.until(id, ended)
  t.equal(m.state, 'failed')
  t.equal(m.phase, 'B')
  t.match(m.message, /^phase B failed \(all at once\): node2: its agent rolled it back: .*; every node was rolled back \(node1, node3, node2 restarted on the revision before phase B; node2 by its own agent\); the cluster serves again \(write outage \d+ ms\)\. Every node still has its local HSM; once the cause is fixed, resume runs the all-at-once phase B again$/)
  t.same(ops(h, 'rollback').sort(), ['node1', 'node3'], 'node2 needed no rollback of ours')
  const revisionA = (await h.store.getMigration(id))?.work.revisionA
  t.same(h.nodes.map((n) => h.agents.node(n).applied), [revisionA, revisionA, revisionA], 'every node back on phase A\'s revision')
  t.same(m.nodes.map((n) => n.phases.B?.state), ['reverted', 'failed', 'reverted'])
  t.equal(m.writeOutage?.rolledBack, true)
  t.equal((await h.store.getMigration(id))?.work.allAtOnce, undefined, 'the step cleared')
})

t.test('every node passes its own checks but the cluster as a whole does not serve: all rolled back', async (t) => {
  const h = harness(t, { engineStaging: false })
  sealEverywhere(h)
  const [, node2, node3] = h.nodes as [NodeRef, NodeRef, NodeRef]
  // From node3's run of phase B until its next one, node2 shows node3 down (node3's own gate asks node1).
  let refused = false
  let runs = 0
  h.agents.runLines.set('node3', () => { refused = ++runs === 2; return [] })
  const members = h.probe.members.bind(h.probe)
  h.probe.members = async (via: NodeRef) => {
    const list = await members(via)
    return refused && via.name === node2.name ? list.map((x): MemberView => x.endpoint === node3.minkms ? { ...x, up: false } : x) : list
  }
  const { migration } = await h.hsm.start(h.request({ ...allAtOnce, strategy: { healthyDeadline: '20s' } }))
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.match(m.message, /^phase B failed \(all at once\): every node restarted and passed its own checks, but the cluster as a whole does not serve: node2 shows node3 \(10\.0\.0\.3:7373\) down.*; every node was rolled back \(node1, node2, node3 restarted on the revision before phase B\); the cluster serves again/)
  t.same(ops(h, 'rollback').sort(), ['node1', 'node2', 'node3'])
  t.same(m.nodes.map((n) => n.phases.B?.state), ['reverted', 'reverted', 'reverted'])
})

t.test('the coordinator restarted while committing: every node on phase B and serving → done', async (t) => {
  const h = harness(t, { engineStaging: false })
  sealEverywhere(h)
  const holds = h.nodes.map(() => held())
  h.nodes.forEach((n, i) => h.agents.script(n, 'commitStaged', { outcome: 'ok', hold: holds[i]?.hold ?? Promise.resolve() }))
  const { migration } = await h.hsm.start(h.request(allAtOnce))
  const id = migration?.id ?? ''
  await h.clock.advanceUntil(() => ops(h, 'commitStaged').length === 3, { stepMs: 500, maxMs: 900_000 })
  const restarted = h.restart()
  for (const x of holds) x.release()
  await restarted
  const m = await h.until(id, ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.same(ops(h, 'commitStaged').length, 3, 'no commit sent again')
  t.same(ops(h, 'rollback'), [])
  t.same(m.nodes.map((n) => n.phases.B?.state), ['done', 'done', 'done'])
  t.ok(m.writeOutage !== undefined, 'a window (an upper bound) is reported')
  const events = await h.hsm.events(id)
  t.ok(events.some((e) => e.message.includes('the coordinator restarted while the commits ran')))
})

t.test('the coordinator restarted while committing: a node not on phase B → every node rolled back', async (t) => {
  const h = harness(t, { engineStaging: false })
  sealEverywhere(h)
  const holds = h.nodes.map(() => held())
  h.nodes.forEach((n, i) => h.agents.script(n, 'commitStaged', { outcome: i === 2 ? 'rolled-back' : 'ok', hold: holds[i]?.hold ?? Promise.resolve() }))
  const { migration } = await h.hsm.start(h.request(allAtOnce))
  const id = migration?.id ?? ''
  await h.clock.advanceUntil(() => ops(h, 'commitStaged').length === 3, { stepMs: 500, maxMs: 900_000 })
  const restarted = h.restart()
  for (const x of holds) x.release()
  await restarted
  const m = await h.until(id, ended)
  t.equal(m.state, 'failed')
  t.match(m.message, /^phase B failed \(all at once\): the coordinator restarted while committing and found node3 on revision \d+, not on phase B's revision \d+; every node was rolled back \(node1, node2 restarted/)
  t.same(ops(h, 'rollback').sort(), ['node1', 'node2'])
  const revisionA = (await h.store.getMigration(id))?.work.revisionA
  t.same(h.nodes.map((n) => h.agents.node(n).applied), [revisionA, revisionA, revisionA])
})
