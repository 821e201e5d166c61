// The ClusterProbe double: nodes up and down, the N-of-N write readiness, scripts consumed in
// order and a test that leaves one unused failing.
import t from 'tap'
import { DEFAULT_FAKE_HSMS, FakeClusterProbe } from '../../../../coordinator/gate/fake-cluster-probe.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'

const nodes: NodeRef[] = [1, 2, 3].map(i => ({ cluster: 'c1', name: `node${i}`, agentUrl: `https://10.0.0.1${i}:7480`, minkms: `10.0.0.1${i}:7373` }))
const [n1, n2, n3] = nodes as [NodeRef, NodeRef, NodeRef]

t.test('a healthy cluster, then a node down', async t => {
  const p = new FakeClusterProbe().addCluster(nodes)
  t.teardown(() => { p.assertNoPendingScripts() })
  t.equal(await p.ready(n1, { write: true }), true)
  t.same(await p.members(n2), nodes.map(n => ({ endpoint: n.minkms, up: true })))
  await t.rejects(p.clientRoundTrip(n1), { code: 'CRD_MINKMS_PROBE_FAILED', message: /provision it first/ })
  await p.provision('c1', n1)
  await p.clientRoundTrip(n1)

  p.setUp(n3, false)
  t.equal(await p.ready(n3), false)
  t.equal(await p.ready(n1), true)
  t.equal(await p.ready(n1, { write: true }), false, 'writes need every member')
  t.match(await p.members(n1), [{ up: true }, { up: true }, { endpoint: n3.minkms, up: false }])
  await t.rejects(p.members(n3), { code: 'CRD_MINKMS_UNREACHABLE' })
  await t.rejects(p.clientRoundTrip(n3), { code: 'CRD_MINKMS_UNREACHABLE' })
  p.setUp(n3, true)
  t.equal(await p.ready(n1, { write: true }), true)
  t.same(p.calls.slice(0, 2), [{ op: 'ready', node: 'node1', write: true }, { op: 'members', node: 'node2' }])
})

t.test('scripts: a node that does not rejoin, a refused round trip; unused scripts fail', async t => {
  const p = new FakeClusterProbe().addCluster(nodes)
  await p.provision('c1', n1)
  p.script(n1, 'members', { members: [{ endpoint: n1.minkms, up: true }] })
  p.script(n2, 'clientRoundTrip', { fail: 'probe-failed', message: 'access denied' })
  p.script(n2, 'ready', { fail: 'unreachable' })
  p.script(n3, 'ready', { ready: false }, { times: 2 })
  t.same(await p.members(n1), [{ endpoint: n1.minkms, up: true }], 'a member list without the others')
  await t.rejects(p.clientRoundTrip(n2), { code: 'CRD_MINKMS_PROBE_FAILED', message: /access denied/ })
  await t.rejects(p.ready(n2), { code: 'CRD_MINKMS_UNREACHABLE' })
  t.equal(await p.ready(n3), false)
  t.throws(() => { p.assertNoPendingScripts() }, /1 scripted answer\(s\) never used:\n {2}c1\/node3 ready \{"ready":false\}: used 1, 1 more expected/)
  t.equal(await p.ready(n3), false)
  p.assertNoPendingScripts()
})

t.test('hsmStatus: the soft HSM by default, what was set, scripted answers, unreachable when down', async t => {
  const p = new FakeClusterProbe().addCluster(nodes)
  t.teardown(() => { p.assertNoPendingScripts() })
  t.same(await p.hsmStatus(n1), DEFAULT_FAKE_HSMS)
  const both = { configured: ['hsm:minio:soft', 'hsm:minio:minkms'], sealed: ['hsm:minio:minkms', 'hsm:minio:soft'] }
  p.setHsms(n2, both)
  const got = await p.hsmStatus(n2)
  t.same(got, both)
  got.sealed.pop()
  t.same(await p.hsmStatus(n2), both, 'answers are copies')
  p.script(n2, 'hsmStatus', { hsms: { configured: ['hsm:minio:minkms'], sealed: [] } })
  t.same(await p.hsmStatus(n2), { configured: ['hsm:minio:minkms'], sealed: [] })
  t.same(await p.hsmStatus(n2), both, 'then what was set again')
  p.setUp(n3, false)
  await t.rejects(p.hsmStatus(n3), { code: 'CRD_MINKMS_UNREACHABLE', message: /HSM status/ })
  t.same(p.calls.filter((c) => c.op === 'hsmStatus').map((c) => c.node), ['node1', 'node2', 'node2', 'node2', 'node2', 'node3'])
})
