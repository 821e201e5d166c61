// The engine stages the next node's change while the current node restarts and commits it at that
// node's turn (coordinator/engine/stager.ts, runner.ts #apply). Over FakeAgentClient nodes, whose
// `hold` scripts keep a node in its restart while the test looks at who was asked what.
import t from 'tap'
import { gate, SECRET, stagingHarness, terminal } from './staging-harness.js'

t.test('the node after the first is committed from the change staged during the previous node\'s restart', async t => {
  const h = stagingHarness(t)
  const held = gate()
  h.agents.script(h.node('node1'), 'apply', { outcome: 'ok', hold: held.promise })
  const r0 = await h.start()
  await h.waitFor(() => h.agents.staged(h.node('node2')) === 2)
  // node1 is still in its restart (its apply has not answered): node2 was staged meanwhile.
  t.same(h.calls('apply', 'stage', 'commitStaged'), ['node1 apply', 'node2 stage'], 'node2 staged while node1 restarts')
  t.equal(h.stored(r0.id).nodes[0]?.state, 'applying', 'node1 still applying')
  t.equal(h.agents.staged(h.node('node3')), undefined, 'maxParallel 1: only the next node is staged')
  held.open()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.calls('apply', 'stage', 'commitStaged'), ['node1 apply', 'node2 stage', 'node2 commitStaged', 'node3 stage', 'node3 commitStaged'])
  t.same(h.via(r.id), { node1: 'apply', node2: 'staged', node3: 'staged' })
  for (const n of h.nodes) {
    t.equal(h.agents.node(n).restarts, 1, `${n.name} restarted once`)
    t.equal(h.agents.node(n).applied, 2)
  }
  const staged = h.events(r.id).filter((e) => e.type === 'stage')
  t.same(staged.map((e) => e.node), ['node2', 'node3'], 'a stage event per node staged')
  t.match(staged[0]?.data, { revision: 2, ok: true, ms: Number })
  // node2's stage event comes before node1's verdict: it happened during the restart.
  const idx = (pred: (e: { type: string, node?: string }) => boolean): number => h.events(r.id).findIndex(pred)
  t.ok(idx((e) => e.type === 'stage' && e.node === 'node2') < idx((e) => e.type === 'verdict' && e.node === 'node1'))
  t.notOk(JSON.stringify(h.events(r.id)).includes(SECRET), 'no secret in the events')
  t.equal(h.agents.staged(h.node('node3')), undefined, 'nothing left staged')
  h.agents.assertNoPendingScripts()
})

t.test('a stale staged change (the files drifted since) falls back to one ordinary apply', async t => {
  const h = stagingHarness(t)
  const held = gate()
  h.agents.script(h.node('node1'), 'apply', { outcome: 'ok', hold: held.promise })
  const r0 = await h.start()
  await h.waitFor(() => h.agents.staged(h.node('node2')) === 2)
  h.agents.drift(h.node('node2'))
  held.open()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.calls('apply', 'commitStaged').filter((c) => c.startsWith('node2')), ['node2 commitStaged', 'node2 apply'])
  const info = h.events(r.id).find((e) => e.type === 'info' && e.node === 'node2')
  t.match(info, { message: /staged change was not committed: its files or applied revision changed since it was staged \(AGT_STAGED_STALE\); applying revision 2 the ordinary way/, data: { code: 'AGT_STAGED_STALE' } })
  t.same(h.via(r.id), { node1: 'apply', node2: 'staged', node3: 'staged' }, 'the applying event says what was tried first')
  t.equal(h.agents.node(h.node('node2')).restarts, 1, 'node2 restarted once')
  t.equal(h.agents.node(h.node('node2')).applied, 2)
})

t.test('an agent restarted since it staged (nothing staged) falls back to one ordinary apply', async t => {
  const h = stagingHarness(t)
  const held = gate()
  h.agents.script(h.node('node1'), 'apply', { outcome: 'ok', hold: held.promise })
  const r0 = await h.start()
  await h.waitFor(() => h.agents.staged(h.node('node2')) === 2)
  h.agents.restartAgent(h.node('node2'))
  held.open()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.calls('apply', 'commitStaged').filter((c) => c.startsWith('node2')), ['node2 commitStaged', 'node2 apply'])
  t.match(h.events(r.id).find((e) => e.type === 'info' && e.node === 'node2'), { data: { code: 'AGT_NOT_STAGED' } })
  t.equal(h.agents.node(h.node('node2')).restarts, 1)
})

t.test('a stage refused (an agent without /v1/stage) is a stage event; the node is applied', async t => {
  const h = stagingHarness(t)
  h.agents.script(h.node('node2'), 'stage', { fail: 'agent-error', code: 'SHR_NOT_FOUND', message: 'Route POST:/v1/stage not found', statusCode: 404 })
  const r = await h.until((await h.start()).id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.calls('apply', 'stage', 'commitStaged'), ['node1 apply', 'node2 stage', 'node2 apply', 'node3 stage', 'node3 commitStaged'])
  t.same(h.via(r.id), { node1: 'apply', node2: 'apply', node3: 'staged' })
  t.match(h.events(r.id).find((e) => e.type === 'stage' && e.node === 'node2'), { message: /node2: revision 2 not staged \(.*404 SHR_NOT_FOUND.*\); applied the ordinary way/, data: { ok: false, code: 'SHR_NOT_FOUND' } })
})

t.test('a commit that breaks otherwise is handled as a broken apply: the agent\'s status decides', async t => {
  const h = stagingHarness(t)
  h.agents.script(h.node('node2'), 'commitStaged', { fail: 'unreachable', sent: false })
  const r = await h.until((await h.start()).id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  const node2 = h.calls('apply', 'commitStaged', 'status').filter((c) => c.startsWith('node2'))
  const from = node2.indexOf('node2 commitStaged')
  t.same(node2.slice(from, from + 3), ['node2 commitStaged', 'node2 status', 'node2 apply'], 'the status was asked, the revision never arrived, so it was sent')
  t.match(h.events(r.id).find((e) => e.type === 'info' && e.node === 'node2'), { message: /the apply stream broke/ })
  t.equal(h.agents.node(h.node('node2')).restarts, 1)
})

t.test('a halt discards the staged change of the next node and stages nothing more', async t => {
  const h = stagingHarness(t)
  const held = gate()
  h.agents.script(h.node('node2'), 'commitStaged', { outcome: 'rolled-back', hold: held.promise })
  const r0 = await h.start()
  await h.waitFor(() => h.agents.staged(h.node('node3')) === 2)
  t.same(h.calls('stage'), ['node2 stage', 'node3 stage'], 'node3 staged during node2\'s restart')
  held.open()
  const r = await h.until(r0.id, terminal)
  await h.engine.finished(r.id)
  t.equal(r.state, 'failed')
  t.same(r.nodes.map((s) => s.state), ['done', 'failed', 'skipped'])
  await h.waitFor(() => h.calls('discardStaged').length > 0)
  t.same(h.calls('discardStaged'), ['node3 discardStaged'])
  t.equal(h.agents.staged(h.node('node3')), undefined, 'node3 holds nothing staged')
  t.same(h.calls('stage'), ['node2 stage', 'node3 stage'], 'no stage after the halt')
  t.equal(h.agents.node(h.node('node3')).restarts, 0)
  const events = h.events(r.id)
  t.equal(events.at(-1)?.type === 'rollout' || events.at(-1)?.type === 'step', true, 'no stage event after the end')
})

t.test('an abort discards the staged change; the node in flight finishes', async t => {
  const h = stagingHarness(t)
  const held = gate()
  h.agents.script(h.node('node1'), 'apply', { outcome: 'ok', hold: held.promise })
  const r0 = await h.start()
  await h.waitFor(() => h.agents.staged(h.node('node2')) === 2)
  await h.engine.abort(r0.id, 'bob')
  await h.waitFor(() => h.agents.staged(h.node('node2')) === undefined)
  t.same(h.calls('discardStaged'), ['node2 discardStaged'])
  held.open()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'aborted')
  t.same(h.calls('apply', 'stage', 'commitStaged'), ['node1 apply', 'node2 stage'])
  t.equal(h.agents.node(h.node('node2')).restarts, 0)
})

t.test('a pause discards the staged change; after resume the node is applied and the next one staged', async t => {
  const h = stagingHarness(t)
  const held = gate()
  h.agents.script(h.node('node1'), 'apply', { outcome: 'ok', hold: held.promise })
  const r0 = await h.start()
  await h.waitFor(() => h.agents.staged(h.node('node2')) === 2)
  await h.engine.pause(r0.id, 'bob')
  await h.waitFor(() => h.agents.staged(h.node('node2')) === undefined)
  held.open()
  await h.until(r0.id, (r) => r.nodes[0]?.state === 'done')
  t.same(h.calls('stage'), ['node2 stage'], 'nothing staged while paused')
  await h.engine.resume(r0.id, 'bob')
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.calls('apply', 'stage', 'commitStaged'), ['node1 apply', 'node2 stage', 'node2 apply', 'node3 stage', 'node3 commitStaged'])
  t.same(h.via(r.id), { node1: 'apply', node2: 'apply', node3: 'staged' })
})

t.test('canary: nothing is staged before the promotion; after it, the node after the promoted one is', async t => {
  const h = stagingHarness(t)
  const r0 = await h.start({ canary: true })
  await h.until(r0.id, (r) => r.state === 'awaiting-promotion')
  t.same(h.calls('stage'), [], 'the canary\'s successor is not staged: the engine waits for a promotion')
  await h.engine.promote(r0.id, 'bob')
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.calls('apply', 'stage', 'commitStaged'), ['node1 apply', 'node2 apply', 'node3 stage', 'node3 commitStaged'])
  t.same(h.via(r.id), { node1: 'apply', node2: 'apply', node3: 'staged' })
})

t.test('maxParallel 2: the next two nodes are staged while the first two restart', async t => {
  const h = stagingHarness(t, { nodes: 4 })
  const r = await h.until((await h.start({ maxParallel: 2 })).id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.calls('stage').sort(), ['node3 stage', 'node4 stage'])
  t.same(h.via(r.id), { node1: 'apply', node2: 'apply', node3: 'staged', node4: 'staged' })
  for (const n of h.nodes) t.equal(h.agents.node(n).restarts, 1, `${n.name} restarted once`)
})

t.test('strategy stageNext: false, or an engine without staging: every node is applied', async t => {
  for (const [name, h, strategy] of [
    ['stageNext: false', stagingHarness(t), { stageNext: false }],
    ['staging: false', stagingHarness(t, { staging: false }), {}]
  ] as const) {
    const r = await h.until((await h.start(strategy)).id, terminal)
    t.equal(r.state, 'succeeded', name)
    t.same(h.calls('apply', 'stage', 'commitStaged', 'discardStaged'), ['node1 apply', 'node2 apply', 'node3 apply'], name)
    t.same(h.via(r.id), { node1: 'apply', node2: 'apply', node3: 'apply' }, name)
  }
})

t.test('a coordinator restart forgets what it staged: the resumed rollout stages again and commits', async t => {
  const h = stagingHarness(t)
  const held = gate()
  h.agents.script(h.node('node1'), 'apply', { outcome: 'ok', hold: held.promise })
  const r0 = await h.start()
  await h.waitFor(() => h.agents.staged(h.node('node2')) === 2)
  // Killed mid-restart of node1: close() waits for the apply in flight, which answers once released.
  const restarted = h.restart()
  held.open()
  await restarted
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.calls('apply', 'stage', 'commitStaged'), ['node1 apply', 'node2 stage', 'node2 stage', 'node2 commitStaged', 'node3 stage', 'node3 commitStaged'],
    'node1 was not applied again; node2 was staged again by the new coordinator, replacing its first stage')
  for (const n of h.nodes) t.equal(h.agents.node(n).restarts, 1, `${n.name} restarted once`)
  t.same(h.store.saves.flatMap((x) => Object.keys(x).filter((k) => k.toLowerCase().includes('stag'))), [], 'nothing about staging is stored in the rollout')
})
