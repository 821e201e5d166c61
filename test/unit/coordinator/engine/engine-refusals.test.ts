// An agent that refuses the change (4xx: an older or conflicting revision, invalid files, a unit
// that cannot restart) wrote nothing: the step fails with the agent's code and message and the
// rollout halts, without asking "what became of the revision" and without sending it again. Only
// "another change is in progress" (AGT_CHANGE_CONFLICT) waits and sends it again. A plan of a
// revision older than a node's is refused before any rollout.
import t from 'tap'
import { FakeAgentClient } from '../../../../coordinator/agents/fake-agent-client.js'
import { planCluster } from '../../../../coordinator/engine/cluster-plan.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { FakeClock } from '../../../helpers/fake-clock.js'
import { change, stagingHarness, terminal } from './staging-harness.js'

t.test('a refused apply fails the step at once: nothing asked again, nothing sent again, the next node untouched', async t => {
  const h = stagingHarness(t, { staging: false })
  h.agents.script(h.node('node2'), 'apply', { fail: 'agent-error', code: 'AGT_REVISION_CONFLICT', statusCode: 409, message: 'revision 2 was already applied with different content; give the new change a new revision' })
  const r0 = await h.start()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'failed', r.message ?? '')
  const node2 = r.nodes.find((s) => s.node === 'node2')
  t.equal(node2?.state, 'failed')
  t.match(node2?.message, /the agent refused revision 2, nothing was written: AGT_REVISION_CONFLICT: revision 2 was already applied with different content/)
  t.same(h.calls('apply').filter((c) => c.startsWith('node2')), ['node2 apply'], 'sent once')
  t.same(h.calls('apply').filter((c) => c.startsWith('node3')), [], 'node3 untouched')
  t.notOk(h.events(r.id).some((e) => e.node === 'node2' && /asking the agent what became/.test(e.message)), 'no recovery by status')
})

t.test('"another change is in progress" is waited out: the agent is asked, then the revision is sent again', async t => {
  const h = stagingHarness(t, { staging: false })
  h.agents.script(h.node('node2'), 'apply', { fail: 'agent-error', code: 'AGT_CHANGE_CONFLICT', statusCode: 409, message: 'another change is in progress on this node (revision 1); wait for it to finish' })
  const r0 = await h.start()
  const r = await h.until(r0.id, terminal)
  t.equal(r.state, 'succeeded', r.message ?? '')
  t.same(h.calls('apply').filter((c) => c.startsWith('node2')), ['node2 apply', 'node2 apply'], 'sent again once the agent had not run it')
})

t.test('a plan of a revision older than a node\'s is refused, naming the nodes and the revision to use', async t => {
  const agents = new FakeAgentClient(new FakeClock())
  const nodes: NodeRef[] = [1, 2, 3].map((i) => ({ cluster: 'c1', name: `node${i}`, agentUrl: `https://10.0.0.${i}:7400`, minkms: `10.0.0.${i}:7373` }))
  agents.addNode(nodes[0] as NodeRef, { revision: 1 })
  agents.addNode(nodes[1] as NodeRef, { revision: 4 })
  agents.addNode(nodes[2] as NodeRef, { revision: 5 })
  await t.rejects(planCluster(agents, 'c1', nodes, change), {
    code: 'CRD_STALE_REVISION',
    statusCode: 409,
    message: /revision 2 is older than the revision node2 is on \(4\), node3 is on \(5\): agents refuse an older revision; give the change revision 6 or higher/
  })
  const same = await planCluster(agents, 'c1', nodes.slice(0, 1), { ...change, revision: 1 })
  t.equal(same.revision, 1, 'the revision a node is on may be planned again (it is a no-op or a re-apply)')
})
