// A coordinator killed at five points of a rollout (simulated: the engine is closed at that point
// and a new one is built over the same store and the same nodes): each time the new engine
// resumes and completes, and every node is asked to apply once and restarts once.
import t from 'tap'
import type { Rollout } from '../../../../shared/schemas/rollout.js'
import { harness, step, terminal } from './harness.js'

const points: Array<{ name: string, at: (r: Rollout) => boolean }> = [
  { name: 'before a node (node2 being prepared)', at: (r) => step(r, 'node2').state === 'pending' && step(r, 'node2').startedAt !== undefined },
  { name: 'applying stored, apply not sent yet', at: (r) => step(r, 'node2').state === 'applying' },
  { name: 'after the verdict (node2 gating)', at: (r) => step(r, 'node2').state === 'gating' },
  { name: 'during the gate (node2 holding minHealthyTime)', at: (r) => step(r, 'node2').state === 'healthy' },
  { name: 'between nodes (node2 done)', at: (r) => step(r, 'node2').state === 'done' }
]

for (const p of points) {
  t.test(`killed ${p.name}: resumes, completes, each node applied and restarted once`, async t => {
    const h = harness(t)
    let killed = false
    const first = h.engine
    h.store.onSave = (r) => {
      if (!killed && p.at(r)) {
        killed = true
        first.close().catch(() => {})
      }
    }
    const r0 = await h.start()
    await h.clock.advanceUntil(() => killed, { stepMs: 500 })
    await first.close()
    h.store.onSave = undefined
    const stuck = h.stored(r0.id)
    await h.clock.advance(10_000)
    t.same(h.stored(r0.id), stuck, 'a closed engine changes nothing')
    const second = h.restart()
    await second.resumeAll()
    const r = await h.until(r0.id, terminal)
    t.equal(r.state, 'succeeded', r.message ?? '')
    for (const n of h.cluster.nodes.values()) {
      t.equal(n.applies, 1, `${n.name} asked to apply once`)
      t.equal(n.restarts, 1, `${n.name} restarted once`)
    }
    const events = await second.events(r0.id)
    t.ok(events.some((e) => e.type === 'info' && /coordinator restarted/.test(e.message)))
    const cursors = events.filter((e) => e.type === 'journal').map((e) => `${e.node ?? ''} ${(e.data as { cursor: string }).cursor}`)
    t.equal(new Set(cursors).size, cursors.length, 'no journal line stored twice')
    for (const n of ['node1', 'node2', 'node3']) t.ok(events.some((e) => e.type === 'journal' && e.node === n && /Server is up/.test(e.message)), `${n}'s ready line stored`)
  })
}

t.test('killed mid-apply (the agent finishes by itself): the result is taken by revision, never re-sent', async t => {
  const h = harness(t)
  const n2 = h.cluster.node('node2')
  let release!: () => void
  n2.hold = new Promise((resolve) => { release = resolve })
  const r0 = await h.start()
  await h.clock.advanceUntil(() => n2.applying, { stepMs: 500 })
  await h.engine.close()
  release()
  await h.clock.advanceUntil(() => !n2.applying)
  t.equal(step(h.stored(r0.id), 'node2').state, 'applying')
  const second = h.restart()
  await second.resumeAll()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded')
  t.equal(n2.applies, 1, 'node2 got one apply')
  t.equal(n2.restarts, 1)
  t.equal(step(r, 'node2').verdict?.ok, true, 'the verdict came from the agent\'s lastResult')
})

t.test('killed mid-apply, the agent still applying when the new engine asks: it waits for it', async t => {
  const h = harness(t)
  const n2 = h.cluster.node('node2')
  let release!: () => void
  n2.hold = new Promise((resolve) => { release = resolve })
  const r0 = await h.start()
  await h.clock.advanceUntil(() => n2.applying, { stepMs: 500 })
  await h.engine.close()
  const second = h.restart()
  await second.resumeAll()
  await h.clock.advance(20_000)
  t.equal(step(h.stored(r0.id), 'node2').state, 'applying', 'still waiting for the agent')
  release()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded')
  t.equal(n2.applies, 1)
  t.equal(n2.restarts, 1)
})

t.test('killed mid-apply of a failing node: the rolled-back result is taken, the node is not restarted again', async t => {
  const h = harness(t)
  const n2 = h.cluster.node('node2')
  n2.fault = 'fail'
  let release!: () => void
  n2.hold = new Promise((resolve) => { release = resolve })
  const r0 = await h.start()
  await h.clock.advanceUntil(() => n2.applying, { stepMs: 500 })
  await h.engine.close()
  release()
  await h.clock.advanceUntil(() => !n2.applying)
  const restarts = n2.restarts
  const second = h.restart()
  await second.resumeAll()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'failed')
  t.equal(step(r, 'node2').state, 'failed')
  t.equal(n2.applies, 1, 'not re-sent')
  t.equal(n2.restarts, restarts, 'no further restart')
  t.equal(h.cluster.node('node3').applies, 0)
})

t.test('killed while rolling a node back: the new engine does not roll it back twice', async t => {
  const h = harness(t)
  h.cluster.node('node2').fault = 'no-rejoin'
  let killed = false
  const first = h.engine
  const orig = h.cluster.rollback.bind(h.cluster)
  h.cluster.rollback = async (ref, o) => {
    const r = await orig(ref, o)
    if (!killed) { killed = true; first.close().catch(() => {}) }
    return r
  }
  const r0 = await h.start({ healthyDeadline: '20s' })
  await h.clock.advanceUntil(() => killed, { stepMs: 500 })
  await first.close()
  t.equal(step(h.stored(r0.id), 'node2').state, 'reverting')
  const second = h.restart()
  await second.resumeAll()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'failed')
  t.equal(h.cluster.node('node2').rollbacks, 1)
})
