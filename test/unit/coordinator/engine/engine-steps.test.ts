// The engine over fakes: a 3-node rollout node by node, a failing node, a node that does not
// rejoin, a journal that contradicts the verdict. Time is a fake clock; nothing sleeps.
import t from 'tap'
import { change, harness, SECRET, step, terminal } from './harness.js'

t.test('3 nodes, strictly one at a time, each restarted once; events hold journal, verdicts, gate timings', async t => {
  const h = harness(t)
  const overlaps: string[] = []
  for (const n of h.cluster.nodes.values()) {
    n.onApply = () => {
      const r = [...h.store.rollouts.values()][0]?.rollout
      for (const s of r?.nodes ?? []) if (s.node !== n.name && ['applying', 'gating', 'healthy'].includes(s.state)) overlaps.push(`${n.name} applied while ${s.node} was ${s.state}`)
    }
  }
  const r0 = await h.start()
  t.equal(r0.state, 'running')
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(r.nodes.map((s) => s.state), ['done', 'done', 'done'])
  t.same(overlaps, [], 'no node applied while another was in flight')
  t.same(h.cluster.applyLog.map((a) => a.node), ['node1', 'node2', 'node3'])
  for (const n of h.cluster.nodes.values()) {
    t.equal(n.restarts, 1, `${n.name} restarted once`)
    t.equal(n.appliedRevision, 2)
  }
  const events = await h.engine.events(r.id)
  t.same(events.map((e) => e.index), events.map((_, i) => i), 'indexes without gaps')
  for (const node of ['node1', 'node2', 'node3']) {
    t.ok(events.some((e) => e.type === 'journal' && e.node === node && e.message.includes('Server is up and running')), `${node}: journal ready line in the events`)
    t.ok(events.some((e) => e.type === 'verdict' && e.node === node), `${node}: verdict event`)
    t.ok(events.some((e) => e.type === 'apply' && e.node === node), `${node}: apply progress events`)
    for (const check of ['journal', 'internode', 'client', 'writeReady']) {
      t.ok(events.some((e) => e.type === 'gate' && e.node === node && (e.data as { check?: string }).check === check), `${node}: gate ${check}`)
    }
    const g = step(r, node).gate
    t.equal(g?.ok, true)
    t.type(g?.internode?.ms, 'number')
  }
  // node2's step begins only after node1's is done, in the events too.
  const at = (node: string, state: string): number => events.findIndex((e) => e.type === 'step' && e.node === node && (e.data as { state: string }).state === state)
  t.ok(at('node1', 'done') < at('node2', 'applying'))
  t.ok(at('node2', 'done') < at('node3', 'applying'))
  t.same(h.cluster.provisioned, ['c1'])
  const audit = h.store.auditLog.map((a) => a.action)
  t.same(audit, ['rollout.create', 'rollout.finish'])
  t.equal(h.store.auditLog[0]?.planHash, r.planHash)
  // Nothing secret anywhere the engine writes.
  const everything = JSON.stringify([...h.store.rollouts.values(), events, h.store.auditLog, h.store.saves])
  t.notOk(everything.includes(SECRET), 'the secret is in no stored state, event or audit entry')
  t.notOk(h.store.rollouts.get(r.id)?.sealedChange.includes('log.level'), 'the change is stored sealed')
  t.equal(h.clock.pending, 0, 'no timer left behind')
})

t.test('every state change is stored before its effect runs: the apply goes out after `applying` is saved', async t => {
  const h = harness(t, { nodes: 1 })
  let savedApplying = false
  h.cluster.node('node1').onApply = () => {
    savedApplying = h.store.saves.some((r) => r.nodes[0]?.state === 'applying' && r.nodes[0].cursor !== undefined && r.nodes[0].invocationBefore === 'node1-inv0')
  }
  const r = await h.until((await h.start()).id, terminal)
  t.equal(r.state, 'succeeded')
  t.ok(savedApplying, 'applying with cursor and InvocationID stored before the apply was sent')
})

t.test('a failure on node 2 halts the rollout; node 3 untouched; events say which node and why', async t => {
  const h = harness(t)
  h.cluster.node('node2').fault = 'fail'
  const r = await h.until((await h.start()).id, terminal)
  t.equal(r.state, 'failed')
  t.same(r.nodes.map((s) => s.state), ['done', 'failed', 'skipped'])
  t.match(r.message, /node2 failed/)
  t.match(step(r, 'node2').message, /rolled-back.*failed verification.*verdict: fatal line/)
  const n3 = h.cluster.node('node3')
  t.equal(n3.applies, 0, 'node3 never asked to apply')
  t.equal(n3.restarts, 0)
  t.equal(n3.invocation, 'node3-inv0', 'same InvocationID')
  const events = await h.engine.events(r.id)
  t.ok(events.some((e) => e.type === 'step' && e.node === 'node2' && /failed/.test(e.message) && /fatal line/.test(e.message)))
  t.ok(events.some((e) => e.type === 'journal' && e.node === 'node2' && e.message.includes('FATAL')), 'journal evidence in the events')
  const finish = h.store.auditLog.find((a) => a.action === 'rollout.finish')
  t.match(JSON.stringify(finish?.detail), /fatal line/)
})

t.test('a node that does not rejoin fails its step within healthyDeadline though its verdict was ok', async t => {
  const h = harness(t, { strategy: { healthyDeadline: '30s' } })
  h.cluster.node('node2').fault = 'no-rejoin'
  const r = await h.until((await h.start()).id, terminal)
  t.equal(r.state, 'failed')
  const s2 = step(r, 'node2')
  t.equal(s2.state, 'failed')
  t.equal(s2.verdict?.ok, true, 'the agent said ok')
  t.equal(s2.gate?.ok, false)
  t.equal(s2.gate?.internode?.ok, false)
  t.match(s2.message, /did not rejoin/)
  t.ok((s2.finishedAt ?? Infinity) - (s2.startedAt ?? 0) <= 30_000 + 1000, `failed ${(s2.finishedAt ?? 0) - (s2.startedAt ?? 0)} ms after its apply started`)
  t.equal(h.cluster.node('node2').rollbacks, 1, 'the coordinator asked the agent to roll node2 back')
  t.equal(h.cluster.node('node3').applies, 0)
  const events = await h.engine.events(r.id)
  t.ok(events.some((e) => e.type === 'gate' && e.node === 'node2' && /gate failed: internode/.test(e.message)))
})

t.test('a journal that contradicts the verdict fails the step', async t => {
  const h = harness(t, { nodes: 2 })
  h.cluster.node('node1').fault = 'contradict'
  const r = await h.until((await h.start()).id, terminal)
  t.equal(r.state, 'failed')
  const s1 = step(r, 'node1')
  t.equal(s1.verdict?.ok, true)
  t.equal(s1.gate?.journal?.ok, false)
  t.match(s1.message, /the journal contradicts the agent's verdict: run node1-inv1 logged a fatal line: FATAL lost the cluster key/)
  t.equal(h.cluster.node('node1').rollbacks, 1)
  t.equal(h.cluster.node('node2').applies, 0)
})

t.test('the change sent to agents is the wire form, secrets included, opened from the sealed copy', async t => {
  const h = harness(t, { nodes: 1 })
  let sent: unknown
  const orig = h.cluster.apply.bind(h.cluster)
  h.cluster.apply = async (ref, c, o) => { sent = c; return await orig(ref, c, o) }
  await h.until((await h.start()).id, terminal)
  t.same(sent, change)
})

t.test("the next node's baseline (status, journal cursor) is asked together with the cluster gate, not after it", async t => {
  const h = harness(t)
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  let released = false
  const cursorAsked: string[] = []
  const status = h.cluster.status.bind(h.cluster)
  const journalCursor = h.cluster.journalCursor.bind(h.cluster)
  // Once node1 passed its gate, node3's status (part of the cluster gate before node2, asked when
  // node1's hold ends) waits for `release`.
  h.cluster.status = async (ref) => {
    const r = [...h.store.rollouts.values()][0]?.rollout
    if (ref.name === 'node3' && ['healthy', 'done'].includes(r?.nodes[0]?.state ?? '') && !released) await held
    return await status(ref)
  }
  h.cluster.journalCursor = async (ref) => { cursorAsked.push(ref.name); return await journalCursor(ref) }
  const r0 = await h.start()
  await h.clock.advanceUntil(() => cursorAsked.includes('node2'), { stepMs: 500, maxMs: 600_000 })
  t.notOk(released, "node2's journal cursor was asked while the cluster gate still waited for node3")
  t.equal(step(h.stored(r0.id), 'node2').state, 'pending', 'node2 does not start before the gate answered')
  released = true
  release()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.cluster.applyLog.map((a) => a.node), ['node1', 'node2', 'node3'])
})
