// What the engine asks between two nodes, and when: one status per agent and one readiness per
// minkms for the cluster gate (the next node's baseline is its gate answer, not a second
// question); those reads go out when the previous node's minHealthyTime ends, in one burst with
// its own check, never earlier and never reused later; the gate's three cluster checks at once.
import t from 'tap'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import type { Rollout } from '../../../../shared/schemas/rollout.js'
import { harness, step, terminal, type Harness } from './harness.js'

interface Call { op: string, node: string, node1: string, node2: string }

/** Records every read with node1's and node2's stored step states at the time. */
function recordReads (h: Harness): Call[] {
  const calls: Call[] = []
  const states = (): { node1: string, node2: string } => {
    const r = [...h.store.rollouts.values()][0]?.rollout
    return { node1: r === undefined ? '-' : step(r, 'node1').state, node2: r === undefined ? '-' : step(r, 'node2').state }
  }
  const c = h.cluster
  const status = c.status.bind(c)
  const ready = c.ready.bind(c)
  const cursor = c.journalCursor.bind(c)
  c.status = async (ref: NodeRef) => { calls.push({ op: 'status', node: ref.name, ...states() }); return await status(ref) }
  c.ready = async (ref: NodeRef, opts?: { write?: boolean, signal?: AbortSignal }) => {
    calls.push({ op: opts?.write === true ? 'ready?write' : 'ready', node: ref.name, ...states() })
    return await ready(ref, opts)
  }
  c.journalCursor = async (ref: NodeRef) => { calls.push({ op: 'journalCursor', node: ref.name, ...states() }); return await cursor(ref) }
  return calls
}

const count = (calls: readonly Call[], op: string, node?: string): number => calls.filter((c) => c.op === op && (node === undefined || c.node === node)).length

t.test('between two nodes: one status per agent, one readiness per minkms, the next node\'s cursor once', async t => {
  const h = harness(t)
  const calls = recordReads(h)
  const r = await h.until((await h.start({ minHealthyTime: '10s' })).id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  // From node1's gate passed to node2 applying: node1's hold check and node2's cluster gate.
  const between = calls.filter((c) => c.node1 === 'healthy' || (c.node1 === 'done' && c.node2 === 'pending'))
  for (const n of ['node1', 'node2', 'node3']) {
    t.equal(count(between, 'status', n), 1, `${n}: its agent asked its status once`)
    t.equal(count(between, 'ready', n), 1, `${n}: minkms asked once (the agent's /health/ready not at all)`)
  }
  t.equal(count(between, 'journalCursor'), 1)
  t.equal(count(between, 'journalCursor', 'node2'), 1, "node2's journal cursor")
})

t.test('the reads for the next node go out when the hold ends, with its check, and done is stored before the next applying', async t => {
  const h = harness(t)
  const calls = recordReads(h)
  const r0 = await h.start({ minHealthyTime: '10s' })
  await h.until(r0.id, (r) => step(r, 'node1').state === 'healthy')
  const atHealthy = calls.length
  await h.clock.advance(9000)
  t.equal(calls.length, atHealthy, 'nothing asked while node1 holds')
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  const burst = calls.slice(atHealthy).filter((c) => c.node1 === 'healthy')
  t.same(burst.map((c) => `${c.op} ${c.node}`).sort(),
    ['journalCursor node2', 'ready node1', 'ready node2', 'ready node3', 'status node1', 'status node2', 'status node3'],
    "node2's cluster gate and cursor asked in the burst that ends node1's hold")
  t.equal(calls.slice(atHealthy).filter((c) => c.node1 === 'done' && c.node2 === 'pending').length, 0, 'nothing asked again between done and applying')
  const saves = h.store.saves.filter((s) => s.id === r0.id)
  const doneAt = saves.findIndex((s) => step(s, 'node1').state === 'done')
  const applyingAt = saves.findIndex((s) => step(s, 'node2').state === 'applying')
  t.ok(doneAt >= 0 && doneAt < applyingAt, 'node1 done stored before node2 applying')
  const events = await h.engine.events(r0.id)
  const applying = events.find((e) => e.type === 'step' && e.node === 'node2' && (e.data as { state?: string }).state === 'applying')
  t.match(applying?.data, { state: 'applying', prepare: { prefetched: 1, readsMs: Number, lockMs: Number, slotsMs: Number, scheduledMs: Number } }, 'the applying event says how the preparation went')
})

t.test('reads taken at the end of a hold are not used by a preparation that comes later (pause, resume)', async t => {
  const h = harness(t)
  const calls = recordReads(h)
  const r0 = await h.start({ minHealthyTime: '10s' })
  await h.until(r0.id, (r) => step(r, 'node1').state === 'healthy')
  await h.engine.pause(r0.id, 'bob')
  await h.until(r0.id, (r) => step(r, 'node1').state === 'done')
  await h.clock.advance(30_000)
  t.equal(step(h.stored(r0.id), 'node2').state, 'pending', 'paused: node2 not started')
  const atResume = calls.length
  await h.engine.resume(r0.id, 'bob')
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  const fresh = calls.slice(atResume).filter((c) => c.node2 === 'pending')
  t.same(fresh.filter((c) => c.op === 'status').map((c) => c.node).sort(), ['node1', 'node2', 'node3'], "node2's cluster gate asked again after the resume")
  t.equal(count(fresh, 'journalCursor', 'node2'), 1)
})

t.test('a node that fails between the hold and the next node: the prefetched gate blocks it, fresh reads let it go', async t => {
  const h = harness(t)
  const n3 = h.cluster.node('node3')
  h.store.onSave = (r) => { if (step(r, 'node1').state === 'healthy') { n3.agentUp = false; h.store.onSave = undefined } }
  const r0 = await h.start({ minHealthyTime: '5s' })
  await h.until(r0.id, (r) => step(r, 'node1').state === 'done')
  await h.clock.advance(5000)
  const waiting = h.stored(r0.id)
  t.equal(step(waiting, 'node2').state, 'pending')
  t.match(step(waiting, 'node2').message, /node3: its agent cannot be asked/)
  n3.agentUp = true
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.cluster.applyLog.map((a) => a.node), ['node1', 'node2', 'node3'])
})

t.test("the gate's internode, client and write-readiness checks run at once", async t => {
  const h = harness(t, { nodes: 2 })
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  let holding = false
  const asked: string[] = []
  const members = h.cluster.members.bind(h.cluster)
  const roundTrip = h.cluster.clientRoundTrip.bind(h.cluster)
  const ready = h.cluster.ready.bind(h.cluster)
  const gating = (): boolean => { const r = [...h.store.rollouts.values()][0]?.rollout; return r !== undefined && step(r, 'node1').state === 'gating' }
  h.cluster.members = async (via) => {
    if (gating()) { asked.push('members'); holding = true; await held }
    return await members(via)
  }
  h.cluster.clientRoundTrip = async (ref) => { if (gating()) asked.push('client'); await roundTrip(ref) }
  h.cluster.ready = async (ref, opts) => { if (gating() && opts?.write === true) asked.push('write'); return await ready(ref, opts) }
  const r0 = await h.start({ minHealthyTime: '0s' })
  await h.clock.advanceUntil(() => asked.includes('client') && asked.includes('write'), { stepMs: 500, maxMs: 600_000 })
  t.ok(holding, 'the internode check has not been answered yet')
  t.same([...asked].sort(), ['client', 'members', 'write'])
  release()
  const r: Rollout = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.match(step(r, 'node1').gate, { ok: true, internode: { ok: true }, client: { ok: true }, writeReady: { ok: true } })
})

t.test('a gate whose internode check fails names it, though the other checks passed', async t => {
  const h = harness(t, { nodes: 2, strategy: { healthyDeadline: '20s' } })
  h.cluster.node('node1').fault = 'no-rejoin'
  const r = await h.until((await h.start()).id, terminal)
  t.equal(r.state, 'failed')
  const g = step(r, 'node1').gate
  t.match(g, { ok: false, internode: { ok: false }, client: { ok: true } })
  t.match(g?.message, /^node1 did not rejoin its cluster: /)
})
