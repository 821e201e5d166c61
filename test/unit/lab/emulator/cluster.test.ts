// Clusters of in-process nodes: ADDNODE, CLUSTER:STATUS with NodesDown, the N-of-N write quorum
// of /v1/health/ready?write, membership refusals, and cluster-wide HSM commands.
import t from 'tap'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { clientFor, configYaml, failedStart, startNode, testEnv, waitUntil, type TestEnv, type TestNode } from './helpers/harness.js'

async function cluster (env: TestEnv, size: number): Promise<TestNode[]> {
  const nodes: TestNode[] = []
  for (let i = 0; i < size; i++) nodes.push(await startNode(env))
  const first = nodes[0] as TestNode
  const root = clientFor(env, first.emu.host, first.emu.rootApiKey)
  for (const n of nodes.slice(1)) await root.addNode(n.emu.host)
  return nodes
}

t.test('three nodes: add, status, a node down, write quorum', async (t) => {
  const env = await testEnv(t)
  const [n0, n1, n2] = await cluster(env, 3) as [TestNode, TestNode, TestNode]
  const key = n0.emu.rootApiKey
  t.match(n1.logs.text(), /INFO {2}Joined cluster [0-9a-f-]{36} as node 1/)

  for (const n of [n0, n2]) {
    const st = await clientFor(env, n.emu.host, key).clusterStatus()
    t.same(Object.keys(st.nodesUp), ['0', '1', '2'])
    t.same(st.nodesDown, {})
    t.match(st.nodesUp[0], { id: 0, role: 'Leader', leaderId: 0, host: n0.emu.host, hsms: ['hsm:minio:soft'], configuredHsms: ['hsm:minio:soft'] })
    t.match(st.nodesUp[2], { id: 2, role: 'Follower', leaderId: 0, host: n2.emu.host })
    t.same(st.nodesUp[1]?.nodes, { 0: n0.emu.host, 1: n1.emu.host, 2: n2.emu.host }, 'every member knows every member')
  }
  const probe = clientFor(env, n1.emu.host)
  t.equal(await probe.ready({ write: true }), true)

  await t.rejects(clientFor(env, n1.emu.host, key).addNode(n2.emu.host), { statusCode: 409, message: `node '${n2.emu.host}' is already a member of the cluster` })

  await n2.emu.close()
  const st = await clientFor(env, n1.emu.host, key).clusterStatus()
  t.same(Object.keys(st.nodesUp), ['0', '1'])
  t.same(st.nodesDown, { 2: n2.emu.host })
  await waitUntil('write quorum lost', async () => !(await probe.ready({ write: true })))
  t.equal(await probe.ready(), true, 'reads stay available')

  const n3 = await startNode(env)
  await t.rejects(clientFor(env, n0.emu.host, key).addNode(n3.emu.host), { statusCode: 503, message: /cluster members are down: 2 / })

  await n0.emu.close()
  const st2 = await clientFor(env, n1.emu.host, key).clusterStatus()
  t.match(st2.nodesUp[1], { role: 'Leader', leaderId: 1 }, 'the lowest live id leads')
})

t.test('membership refusals', async (t) => {
  const env = await testEnv(t)
  const [n0, n1] = await cluster(env, 2) as [TestNode, TestNode]
  const lone = await startNode(env)
  const err = await clientFor(env, lone.emu.host, lone.emu.rootApiKey).addNode(n1.emu.host).then(() => undefined, (e: unknown) => e as Error & { statusCode: number })
  t.equal(err?.statusCode, 409)
  t.match(err?.message, new RegExp(`^cannot add node '${n1.emu.host}': node is already part of a multi-node cluster`))

  const stranger = await startNode(env, { hsmKey: 'hsm:aes256:' + Buffer.alloc(32, 9).toString('base64') })
  await t.rejects(clientFor(env, n0.emu.host, n0.emu.rootApiKey).addNode(stranger.emu.host),
    { statusCode: 403, message: `cannot add node '${stranger.emu.host}': access denied: insufficient permissions (the node must run with the cluster's HSM key)` })
  await t.rejects(clientFor(env, n0.emu.host, generateApiKey().key).addNode(stranger.emu.host), { statusCode: 403, message: 'access denied: insufficient permissions' })
})

t.test('a member restarts on its host; another host is refused', async (t) => {
  const env = await testEnv(t)
  const [n0, n1] = await cluster(env, 2) as [TestNode, TestNode]
  const host = n1.emu.host
  await n1.emu.close()
  const back = await startNode(env, { dataDir: n1.dataDir, address: host })
  t.ok(back.logs.lines.includes(`               Node 0: ${n0.emu.host}`))
  t.ok(back.logs.lines.includes(`               Node 1: ${host} <-`))
  await back.emu.close()
  const { message } = await failedStart(env, { dataDir: n1.dataDir })
  t.match(message, new RegExp(`^kms: server not part of cluster: this node is '127\\.0\\.0\\.1:\\d+' but cluster [0-9a-f-]{36} knows node 1 as '${host}'$`))
})

t.test('HSM commands apply to every member', async (t) => {
  const env = await testEnv(t)
  const ext = await startNode(env, { hsmKey: 'hsm:aes256:' + Buffer.alloc(32, 0x11).toString('base64') })
  const extRoot = clientFor(env, ext.emu.host, ext.emu.rootApiKey)
  await extRoot.createEnclave('kms')
  await extRoot.createKey('kms', 'seal')
  const config = configYaml(env.pki, { servers: [ext.emu.host], enclave: 'kms', key: 'seal', apiKey: ext.emu.rootApiKey })
  const n0 = await startNode(env, { config })
  const n1 = await startNode(env, { config })
  const root = clientFor(env, n0.emu.host, n0.emu.rootApiKey)
  await root.addNode(n1.emu.host)
  await root.removeHsm('hsm:minio:soft')
  const st = await root.clusterStatus()
  t.same([st.nodesUp[0]?.hsms, st.nodesUp[1]?.hsms], [['hsm:minio:minkms'], ['hsm:minio:minkms']])
  await t.rejects(root.removeHsm('hsm:minio:minkms'), { statusCode: 409, message: /^cannot remove HSM 'hsm:minio:minkms'/ })
  await root.addHsm('hsm:minio:soft')
  t.same((await root.clusterStatus()).nodesUp[1]?.hsms, ['hsm:minio:minkms', 'hsm:minio:soft'])
  await n1.emu.close()
  await t.rejects(root.removeHsm('hsm:minio:soft'), { statusCode: 503, message: /^node 1 .* is unreachable/ })
  t.same((await root.clusterStatus()).nodesUp[0]?.hsms, ['hsm:minio:minkms', 'hsm:minio:soft'], 'nothing changed anywhere')
})
