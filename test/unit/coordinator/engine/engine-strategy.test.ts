// The engine's strategy and steering over fakes: canary + promote, pause/resume, abort,
// auto-revert, a failure budget, an unhealthy node mid-rollout (wait or pause), refusals at start.
import t from 'tap'
import { CoordinatorError } from '../../../../coordinator/errors.js'
import { change, harness, step, terminal } from './harness.js'

t.test('canary: the first node, then awaiting-promotion until promote', async t => {
  const h = harness(t)
  const r0 = await h.start({ canary: true })
  let r = await h.until(r0.id, (x) => x.state === 'awaiting-promotion')
  t.same(r.nodes.map((s) => s.state), ['done', 'pending', 'pending'])
  await h.clock.advance(60_000)
  t.equal(h.cluster.node('node2').applies, 0, 'nothing moves without a promote')
  await t.rejects(h.engine.resume(r.id, 'bob'), { code: 'CRD_ROLLOUT_STATE' })
  r = await h.engine.promote(r.id, 'bob')
  t.equal(r.state, 'running')
  r = await h.until(r.id, terminal)
  t.equal(r.state, 'succeeded')
  t.ok(h.store.auditLog.some((a) => a.action === 'rollout.promote' && a.actor === 'bob'))
  await t.rejects(h.engine.promote(r.id, 'bob'), { code: 'CRD_ROLLOUT_STATE' })
})

t.test('pause: the step in flight finishes, no node starts; resume goes on', async t => {
  const h = harness(t)
  let release!: () => void
  h.cluster.node('node1').hold = new Promise((resolve) => { release = resolve })
  const r0 = await h.start()
  await h.until(r0.id, (x) => step(x, 'node1').state === 'applying')
  let r = await h.engine.pause(r0.id, 'bob')
  t.equal(r.state, 'paused')
  release()
  r = await h.until(r0.id, (x) => step(x, 'node1').state === 'done')
  await h.clock.advance(60_000)
  r = h.stored(r0.id)
  t.equal(r.state, 'paused')
  t.equal(step(r, 'node2').state, 'pending')
  t.equal(h.cluster.node('node2').applies, 0)
  r = await h.engine.resume(r0.id, 'bob')
  r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded')
  t.same(h.store.auditLog.map((a) => a.action), ['rollout.create', 'rollout.pause', 'rollout.resume', 'rollout.finish'])
})

t.test('abort: the step in flight finishes, the others stay untouched', async t => {
  const h = harness(t)
  let release!: () => void
  h.cluster.node('node1').hold = new Promise((resolve) => { release = resolve })
  const r0 = await h.start()
  await h.until(r0.id, (x) => step(x, 'node1').state === 'applying')
  let r = await h.engine.abort(r0.id, 'bob')
  t.equal(r.state, 'running', 'still running while node1 is in flight')
  t.same(r.nodes.map((s) => s.state), ['applying', 'skipped', 'skipped'])
  release()
  r = await h.until(r0.id, terminal)
  t.equal(r.state, 'aborted')
  t.match(r.message, /aborted by bob/)
  t.equal(step(r, 'node1').state, 'done')
  t.equal(h.cluster.node('node2').applies + h.cluster.node('node3').applies, 0)
  await t.rejects(h.engine.resume(r0.id, 'bob'), { code: 'CRD_ROLLOUT_STATE' })
})

t.test('auto-revert: a failure rolls back the nodes already done, one at a time', async t => {
  const h = harness(t)
  h.cluster.node('node3').fault = 'fail'
  const r = await h.until((await h.start({ autoRevert: true })).id, terminal)
  t.equal(r.state, 'reverted')
  t.same(r.nodes.map((s) => s.state), ['reverted', 'reverted', 'failed'])
  t.match(r.message, /node3 failed.*rolled back: node1, node2/)
  const events = await h.engine.events(r.id)
  const at = (node: string): number => events.findIndex((e) => e.type === 'step' && e.node === node && (e.data as { state: string }).state === 'reverting')
  t.ok(at('node2') < at('node1'), 'the last node changed goes back first')
  for (const n of ['node1', 'node2']) {
    t.equal(h.cluster.node(n).rollbacks, 1)
    t.equal(h.cluster.node(n).appliedRevision, 0)
  }
  t.equal(h.cluster.node('node3').rollbacks, 0, 'the agent rolled node3 back itself')
})

t.test('operator rollback after success: every node back, one at a time; a second one is refused', async t => {
  const h = harness(t)
  let r = await h.until((await h.start()).id, terminal)
  t.equal(r.state, 'succeeded')
  r = await h.engine.rollback(r.id, 'bob')
  t.equal(r.state, 'reverting')
  r = await h.until(r.id, terminal)
  t.equal(r.state, 'reverted')
  for (const n of h.cluster.nodes.values()) {
    t.equal(n.rollbacks, 1)
    t.equal(n.restarts, 2)
  }
  await t.rejects(h.engine.rollback(r.id, 'bob'), { code: 'CRD_ROLLOUT_STATE' })
})

t.test('failure budget 1: one failed node is tolerated', async t => {
  const h = harness(t)
  h.cluster.node('node2').fault = 'fail'
  const r = await h.until((await h.start({ failureBudget: 1 })).id, terminal)
  t.equal(r.state, 'succeeded')
  t.same(r.nodes.map((s) => s.state), ['done', 'failed', 'done'])
  t.match(r.message, /failed within the failure budget: node2/)
})

t.test('failure budget 1: a second failure halts', async t => {
  const h = harness(t)
  h.cluster.node('node1').fault = 'fail'
  h.cluster.node('node2').fault = 'fail'
  const r = await h.until((await h.start({ failureBudget: 1 })).id, terminal)
  t.equal(r.state, 'failed')
  t.same(r.nodes.map((s) => s.state), ['failed', 'failed', 'skipped'])
  t.match(r.message, /failure budget 1 spent/)
})

t.test('a node down mid-rollout: wait (info event) until it is healthy again, the others untouched', async t => {
  const h = harness(t)
  const n3 = h.cluster.node('node3')
  // node3 fails while node1 holds: before the reads of node2's cluster gate, which go out when the hold ends.
  h.store.onSave = (r) => { if (step(r, 'node1').state === 'healthy') n3.up = false }
  const r0 = await h.start()
  await h.until(r0.id, (x) => step(x, 'node1').state === 'done')
  await h.clock.advance(30_000)
  let r = h.stored(r0.id)
  t.equal(r.state, 'running')
  t.equal(step(r, 'node2').state, 'pending')
  t.equal(h.cluster.node('node2').applies, 0)
  const events = await h.engine.events(r0.id)
  t.ok(events.some((e) => e.type === 'info' && /node2 waits: node3: /.test(e.message)), 'an info event says why')
  t.equal(events.filter((e) => e.type === 'info' && /waits/.test(e.message)).length, 1, 'said once, not per poll')
  h.store.onSave = undefined
  n3.up = true
  r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded')
})

t.test('a node down mid-rollout past progressDeadline: the rollout fails', async t => {
  const h = harness(t)
  // node3 fails while node1 holds: before the reads of node2's cluster gate, which go out when the hold ends.
  h.store.onSave = (r) => { if (step(r, 'node1').state === 'healthy') h.cluster.node('node3').up = false }
  const r = await h.until((await h.start({ progressDeadline: '1m' })).id, terminal)
  t.equal(r.state, 'failed')
  t.match(r.message, /no progress .* before node2: node3/)
  t.same(r.nodes.map((s) => s.state), ['done', 'skipped', 'skipped'])
})

t.test('onUnhealthy pause: the rollout pauses, naming the node', async t => {
  const h = harness(t)
  const n3 = h.cluster.node('node3')
  // node3 fails while node1 holds: before the reads of node2's cluster gate, which go out when the hold ends.
  h.store.onSave = (r) => { if (step(r, 'node1').state === 'healthy') n3.agentUp = false }
  const r0 = await h.start({ onUnhealthy: 'pause' })
  let r = await h.until(r0.id, (x) => x.state === 'paused')
  t.match(r.message, /paused before node2: node3: its agent cannot be asked/)
  h.store.onSave = undefined
  n3.agentUp = true
  await h.engine.resume(r0.id, 'bob')
  r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded')
})

t.test('start refuses: unhealthy cluster (naming the node), plan hash mismatch, busy cluster, unknown cluster', async t => {
  const h = harness(t)
  const plan = await h.engine.plan('c1', change, 'alice')
  t.equal(plan.nodes.length, 3)
  t.equal(plan.planHash, (await h.engine.plan('c1', change, 'alice')).planHash, 'the hash is stable')
  t.notOk(JSON.stringify(plan).includes('ZXhhbXBsZS1zZWNyZXQ'), 'no secret in the plan')

  h.cluster.node('node2').drift = true
  await t.rejects(h.engine.start({ cluster: 'c1', change, planHash: plan.planHash, actor: 'alice' }), { code: 'CRD_CLUSTER_UNHEALTHY', message: /node2: drift/ })
  h.cluster.node('node2').drift = false

  h.cluster.node('node3').appliedRevision = 1
  await t.rejects(h.engine.start({ cluster: 'c1', change, planHash: plan.planHash, actor: 'alice' }), { code: 'CRD_PLAN_HASH_MISMATCH' })
  h.cluster.node('node3').appliedRevision = 0

  const other = { ...change, revision: 3 }
  const r = await h.engine.start({ cluster: 'c1', change, planHash: plan.planHash, actor: 'alice', strategy: { canary: true } })
  const plan3 = await h.engine.plan('c1', other, 'alice')
  await t.rejects(h.engine.start({ cluster: 'c1', change: other, planHash: plan3.planHash, actor: 'alice' }), { code: 'CRD_ROLLOUT_CONFLICT', message: new RegExp(r.id) })
  await t.rejects(h.engine.plan('nope', change, 'alice'), { code: 'CRD_NOT_FOUND' })
  await t.rejects(h.engine.pause('nope', 'alice'), { code: 'CRD_NOT_FOUND' })
  t.ok(new CoordinatorError('CRD_CLUSTER_UNHEALTHY', 'x').statusCode === 409)
  t.same((await h.engine.list({ cluster: 'c1' })).map((x) => x.id), [r.id])
  t.equal((await h.engine.get(r.id))?.id, r.id)
})

t.test('subscribers get each event after it is stored', async t => {
  const h = harness(t, { nodes: 1 })
  const plan = await h.engine.plan('c1', change, 'alice')
  const seen: number[] = []
  let storedFirst = true
  let id = ''
  const r = await h.engine.start({ cluster: 'c1', change, planHash: plan.planHash, actor: 'alice' })
  id = r.id
  const off = h.engine.subscribe(id, (e) => {
    seen.push(e.index)
    if (h.store.eventLog.get(id)?.[e.index] === undefined) storedFirst = false
  })
  t.teardown(off)
  await h.until(id, terminal)
  t.ok(seen.length > 5)
  t.same(seen, seen.map((_, i) => (seen[0] ?? 0) + i), 'in order, no gaps')
  t.ok(storedFirst)
})

t.test('maxParallel 2: two nodes in flight at once, never three', async t => {
  const h = harness(t)
  const releases: Array<() => void> = []
  for (const n of h.cluster.nodes.values()) n.hold = new Promise((resolve) => { releases.push(resolve) })
  const r0 = await h.start({ maxParallel: 2 })
  const r = await h.until(r0.id, (x) => x.nodes.filter((s) => s.state === 'applying').length === 2)
  t.same(r.nodes.map((s) => s.state), ['applying', 'applying', 'pending'])
  for (const release of releases) release()
  t.equal((await h.until(r0.id, terminal)).state, 'succeeded')
})
