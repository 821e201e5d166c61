// A rollout that expects an HSM (the HSM migration's phase A): stored with the rollout and its
// audit entry, checked after each node's verdict through the node's own HSM status, a node that
// does not show it sealed is rolled back and the rollout halts; a resumed engine checks it too.
import t from 'tap'
import { EXTERNAL_HSM_NAME } from '../../../../shared/schemas/hsm-migration.js'
import type { Rollout } from '../../../../shared/schemas/rollout.js'
import type { FakeNode } from './fake-cluster.js'
import { change, harness, step, terminal, type Harness } from './harness.js'

const SOFT = 'hsm:minio:soft'

/** The node's restart brings the HSM up: configured, and sealed when `sealed`. */
function addsHsm (n: FakeNode, sealed = true): void {
  n.onApply = () => { n.hsms = { configured: [SOFT, EXTERNAL_HSM_NAME], sealed: sealed ? [EXTERNAL_HSM_NAME, SOFT] : [SOFT] } }
}

async function start (h: Harness, expectHsm: string): Promise<Rollout> {
  const plan = await h.engine.plan('c1', change, 'alice')
  return await h.engine.start({ cluster: 'c1', change, planHash: plan.planHash, actor: 'alice', expectHsm, strategy: { healthyDeadline: '30s' } })
}

t.test('every node shows the HSM sealed: succeeds, each gate with its hsm part', async t => {
  const h = harness(t)
  for (const n of h.cluster.nodes.values()) addsHsm(n)
  const r0 = await start(h, EXTERNAL_HSM_NAME)
  t.equal(r0.expectHsm, EXTERNAL_HSM_NAME)
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.equal(r.expectHsm, EXTERNAL_HSM_NAME, 'stored with the rollout')
  for (const node of ['node1', 'node2', 'node3']) t.match(step(r, node).gate?.hsm, { ok: true, name: EXTERNAL_HSM_NAME, sealed: [EXTERNAL_HSM_NAME, SOFT] })
  const events = await h.engine.events(r.id)
  t.equal(events.filter((e) => e.type === 'gate' && (e.data as { check?: string }).check === 'hsm' && /gate passed: hsm: HSM hsm:minio:minkms is configured and holds a sealed copy/.test(e.message)).length, 3)
  t.match(h.store.auditLog[0], { action: 'rollout.create', detail: { expectHsm: EXTERNAL_HSM_NAME } })
})

t.test('a node without the sealed copy fails its gate, is rolled back, and the rollout halts', async t => {
  const h = harness(t)
  addsHsm(h.cluster.node('node1'))
  addsHsm(h.cluster.node('node2'), false)
  addsHsm(h.cluster.node('node3'))
  const r = await h.until((await start(h, EXTERNAL_HSM_NAME)).id, terminal)
  t.equal(r.state, 'failed')
  t.same(r.nodes.map((s) => s.state), ['done', 'failed', 'skipped'])
  const s2 = step(r, 'node2')
  t.equal(s2.verdict?.ok, true, 'the agent said ok')
  t.match(s2.gate, { ok: false, writeReady: { ok: true }, hsm: { ok: false, name: EXTERNAL_HSM_NAME, sealed: [SOFT] } })
  t.match(s2.message, /gate failed though the agent's verdict was ok: node2 does not hold its root key under HSM hsm:minio:minkms: HSM hsm:minio:minkms is configured but holds no sealed copy of the root key/)
  t.ok((s2.finishedAt ?? Infinity) - (s2.startedAt ?? 0) <= 30_000 + 1000, 'failed within the healthy deadline')
  t.equal(h.cluster.node('node2').rollbacks, 1, 'the agent was asked to roll node2 back')
  t.equal(h.cluster.node('node3').applies, 0, 'node3 untouched')
  t.match(r.message, /halted: node2 failed/)
})

t.test('a rollout without expectHsm never asks for HSM status', async t => {
  const h = harness(t, { nodes: 1 })
  let asked = 0
  const hsmStatus = h.cluster.hsmStatus.bind(h.cluster)
  h.cluster.hsmStatus = async (ref) => { asked++; return await hsmStatus(ref) }
  const r = await h.until((await h.start()).id, terminal)
  t.equal(r.state, 'succeeded')
  t.equal(r.expectHsm, undefined)
  t.equal(step(r, 'node1').gate?.hsm, undefined)
  t.equal(asked, 0)
})

t.test('a coordinator killed while a node is gating resumes with the HSM check', async t => {
  const h = harness(t, { nodes: 2 })
  addsHsm(h.cluster.node('node1'))
  addsHsm(h.cluster.node('node2'), false)
  let killed = false
  const first = h.engine
  h.store.onSave = (r) => {
    if (!killed && step(r, 'node2').state === 'gating') {
      killed = true
      first.close().catch(() => {})
    }
  }
  const r0 = await start(h, EXTERNAL_HSM_NAME)
  await h.clock.advanceUntil(() => killed, { stepMs: 500 })
  await first.close()
  h.store.onSave = undefined
  const second = h.restart()
  await second.resumeAll()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'failed')
  t.match(step(r, 'node2').gate?.hsm, { ok: false, name: EXTERNAL_HSM_NAME })
  t.equal(h.cluster.node('node2').restarts, 2, 'one restart for the step, one for its rollback')
})

t.test('an empty expectHsm is refused before anything starts', async t => {
  const h = harness(t, { nodes: 1 })
  await t.rejects(start(h, ' '), { code: 'CRD_BAD_INPUT', message: /expectHsm/ })
  t.equal(h.store.rollouts.size, 0)
  t.equal(h.cluster.node('node1').applies, 0)
})
