// Boot slots: one converging node per cluster, never while a rollout step runs there, expiring;
// a rollout waits while a slot is open.
import t from 'tap'
import { harness, step, terminal } from './harness.js'

t.test('grant, refuse while another node holds one, same slot again for its holder, release, expiry', async t => {
  const h = harness(t, { slotTtlMs: 30_000 })
  const a = await h.engine.request({ node: 'node1', unit: 'minkms.service', revision: 2 })
  t.equal(a.granted, true)
  const again = await h.engine.request({ node: 'node1', unit: 'minkms.service', revision: 2 })
  t.same(again.granted && again.slotId, a.granted && a.slotId, 'an agent asking again keeps its slot')
  const b = await h.engine.request({ node: 'node2', unit: 'minkms.service', revision: 2 })
  t.same(b, { granted: false, retryAfterMs: 5000, message: 'node1 is converging (revision 2)' })
  t.equal(await h.engine.release(a.granted ? a.slotId : '', { revision: 2, result: 'changed' }), true)
  await h.clock.advance(1)
  t.equal(await h.engine.release(a.granted ? a.slotId : '', { revision: 2, result: 'changed' }), true, 'a repeated release is answered, not audited again')
  t.equal(await h.engine.release('nope', { revision: 2, result: 'changed' }), false)
  const c = await h.engine.request({ node: 'node2', unit: 'minkms.service', revision: 2 })
  t.equal(c.granted, true)
  await h.clock.advance(30_001)
  const d = await h.engine.request({ node: 'node3', unit: 'minkms.service', revision: 2 })
  t.equal(d.granted, true, 'node2\'s slot expired')
  await t.rejects(h.engine.request({ node: 'stranger', unit: 'minkms.service', revision: 2 }), { code: 'CRD_NOT_FOUND' })
  t.same(h.store.auditLog.map((x) => `${x.action} ${x.actor}`), ['slot.grant agent:node1', 'slot.release agent:node1', 'slot.grant agent:node2', 'slot.grant agent:node3'])
})

t.test('refused while a rollout step runs on the cluster', async t => {
  const h = harness(t)
  const n2 = h.cluster.node('node2')
  let release!: () => void
  n2.hold = new Promise((resolve) => { release = resolve })
  const r0 = await h.start()
  await h.until(r0.id, (r) => step(r, 'node2').state === 'applying')
  const a = await h.engine.request({ node: 'node3', unit: 'minkms.service', revision: 1 })
  t.equal(a.granted, false)
  t.match(!a.granted && a.message, new RegExp(`rollout ${r0.id} is changing node2 \\(applying\\)`))
  release()
  await h.until(r0.id, terminal)
  const b = await h.engine.request({ node: 'node3', unit: 'minkms.service', revision: 1 })
  t.equal(b.granted, true, 'granted once the rollout is over')
})

t.test('a rollout waits while a slot is open, and goes on once it is released', async t => {
  const h = harness(t)
  const a = await h.engine.request({ node: 'node3', unit: 'minkms.service', revision: 1 })
  t.equal(a.granted, true)
  const r0 = await h.start()
  await h.clock.advance(20_000)
  let r = h.stored(r0.id)
  t.equal(step(r, 'node1').state, 'pending')
  t.equal(h.cluster.node('node1').applies, 0)
  const events = await h.engine.events(r0.id)
  t.ok(events.some((e) => e.type === 'info' && /node3 holds a boot slot/.test(e.message)))
  await h.engine.release(a.granted ? a.slotId : '', { revision: 1, result: 'changed' })
  r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded')
})

t.test('a node down mid-rollout boots, gets a slot, converges; the rollout then goes on', async t => {
  const h = harness(t)
  const n3 = h.cluster.node('node3')
  // node3 goes down while node1 holds, before the reads of node2's cluster gate (which go out
  // when the hold ends, with node1's own check).
  h.store.onSave = (r) => { if (step(r, 'node1').state === 'healthy') { n3.up = false; h.store.onSave = undefined } }
  const r0 = await h.start()
  await h.until(r0.id, (r) => step(r, 'node1').state === 'done')
  await h.clock.advance(10_000)
  t.equal(step(h.stored(r0.id), 'node2').state, 'pending', 'waiting for node3')
  // node3 boots: its agent asks for a slot (granted: nothing is applying), converges, releases.
  const s = await h.engine.request({ node: 'node3', unit: 'minkms.service', revision: 0 })
  t.equal(s.granted, true)
  n3.up = true
  await h.clock.advance(5000)
  t.equal(h.cluster.node('node2').applies, 0, 'nothing starts while the slot is open')
  await h.engine.release(s.granted ? s.slotId : '', { revision: 0, result: 'ok' })
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded')
})
