// Live node health: asked in parallel, bounded per node, a node that cannot be asked shown as
// unreachable; and GET /v1/clusters, /v1/nodes built from it.
import t from 'tap'
import { clusterViews, nodeHealth, nodesHealth } from '../../../coordinator/cluster-health.js'
import { CoordinatorError } from '../../../coordinator/errors.js'
import type { NodeRef } from '../../../coordinator/ports/node-ref.js'
import { buildTestCoordinator, scriptedHealth } from '../../helpers/coordinator-app.js'

const node = (name: string, cluster = 'c1'): NodeRef => ({ cluster, name, agentUrl: `https://${name}:7400`, minkms: `${name}:7373` })

t.test('a healthy node: every field from the agent and minkms', async t => {
  const h = await nodeHealth(node('node1'), scriptedHealth())
  t.match(h, { cluster: 'c1', node: 'node1', agent: { reachable: true, ready: true }, unit: { activeState: 'active', subState: 'running', invocationId: 'inv-node1' }, minkmsReady: true, drift: false, appliedRevision: 3, desiredRevision: 3, healthy: true })
})

t.test('each reason to be unhealthy', async t => {
  const src = scriptedHealth({
    down: { status: new CoordinatorError('CRD_AGENT_UNREACHABLE', 'agent of down unreachable: ECONNREFUSED\nstack line') },
    notReady: { ready: false },
    readyFails: { ready: new Error('boom') },
    drifted: { status: { drift: [{ name: 'config', path: '/etc/minkms/config.yaml', fingerprint: 'a', expected: 'b', since: 1 }] } },
    stopped: { status: { unit: { name: 'minkms.service', status: { activeState: 'failed', subState: 'failed', result: 'exit-code', invocationId: '', nRestarts: 0, mainPid: 0, execMainStatus: 1, loadState: 'loaded' } } } },
    noMinkms: { minkmsReady: false },
    minkmsErr: { minkmsReady: new Error('refused') }
  })
  const [down, notReady, readyFails, drifted, stopped, noMinkms, minkmsErr] = await nodesHealth(['down', 'notReady', 'readyFails', 'drifted', 'stopped', 'noMinkms', 'minkmsErr'].map(n => node(n)), src)
  t.match(down, { agent: { reachable: false, error: 'CRD_AGENT_UNREACHABLE: agent of down unreachable: ECONNREFUSED' }, healthy: false })
  t.notOk(down?.agent.error?.includes('stack'), 'one line of the reason')
  t.match(notReady, { agent: { reachable: true, ready: false }, healthy: false })
  t.match(readyFails, { agent: { reachable: true, ready: false, error: 'boom' }, healthy: false })
  t.match(drifted, { drift: true, healthy: false })
  t.match(stopped, { unit: { activeState: 'failed' }, healthy: false })
  t.notOk(stopped?.unit !== undefined && 'invocationId' in stopped.unit, 'an empty InvocationID is left out')
  t.match(noMinkms, { minkmsReady: false, healthy: false })
  t.match(minkmsErr, { minkmsReady: false, healthy: false })
})

t.test('a node that hangs costs at most the timeout, and the others answer', async t => {
  const src = { ...scriptedHealth({ slow: { status: 'hang', minkmsReady: 'hang' } }), timeoutMs: 100 }
  // A client that ignores its signal is bounded too.
  const deaf = { ...src, agents: { ...src.agents, status: async (n: NodeRef) => n.name === 'deaf' ? await new Promise<never>(() => {}) : await src.agents.status(n) } }
  const start = performance.now()
  const [slow, fine, ignoring] = await nodesHealth([node('slow'), node('fine'), node('deaf')], deaf)
  const ms = performance.now() - start
  t.ok(ms < 2000, `answered in ${ms.toFixed(0)} ms`)
  t.match(slow, { agent: { reachable: false, error: 'no answer in time' }, minkmsReady: false, healthy: false })
  t.match(fine, { healthy: true })
  t.match(ignoring, { agent: { reachable: false, error: 'no answer in time' } })
})

t.test('cluster views: healthy only when every node is', async t => {
  const h = await nodesHealth([node('a'), node('b'), node('x', 'c2')], scriptedHealth({ b: { ready: false } }))
  const views = clusterViews(['c1', 'c2', 'empty'], h, c => c === 'c1' ? 'r7' : undefined)
  t.match(views, [{ name: 'c1', healthy: false, activeRollout: 'r7' }, { name: 'c2', healthy: true }, { name: 'empty', healthy: false, nodes: [] }])
  t.notOk('activeRollout' in (views[1] ?? {}))
})

t.test('GET /v1/clusters and /v1/nodes', async t => {
  const c = await buildTestCoordinator(t, { script: { node2: { status: new Error('ECONNREFUSED') } } })
  const clusters = await c.app.inject({ method: 'GET', url: '/v1/clusters', headers: c.viewer })
  t.equal(clusters.statusCode, 200, clusters.body)
  t.match(clusters.json(), [{ name: 'c1', healthy: false, nodes: [{ node: 'node1', healthy: true }, { node: 'node2', agent: { reachable: false } }, { node: 'node3' }] }, { name: 'c2', healthy: true, nodes: [{ node: 'node9' }] }])
  const change = { revision: 1, files: {}, restart: 'on-change' as const, verify: { deadline: '60s', stableFor: '5s' } }
  await c.control.start({ cluster: 'c2', change, planHash: c.control.planHash('c2', change), actor: 'bob' })
  const again = await c.app.inject({ method: 'GET', url: '/v1/clusters', headers: c.viewer })
  t.equal(again.json()[1].activeRollout, 'r1')
  const nodes = await c.app.inject({ method: 'GET', url: '/v1/nodes?cluster=c2', headers: c.viewer })
  t.same(nodes.json().map((n: { node: string }) => n.node), ['node9'])
  const all = await c.app.inject({ method: 'GET', url: '/v1/nodes', headers: c.viewer })
  t.equal(all.json().length, 4)
  const unknown = await c.app.inject({ method: 'GET', url: '/v1/nodes?cluster=zz', headers: c.viewer })
  t.equal(unknown.statusCode, 404)
  const none = await c.app.inject({ method: 'GET', url: '/v1/clusters' })
  t.equal(none.statusCode, 401)
})
