// The gate's minkms probe against real in-process emulator nodes on loopback (TLS, the binary
// /v1/kms protocol, the emulator's authorisation): readiness, cluster status with a member down,
// the client round trip with the provisioned probe identity, provisioning twice, and what a
// coordinator restart keeps (the probe key, sealed in the state dir).
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { MinkmsClusterProbe, type ProbeCluster } from '../../../../coordinator/gate/minkms-cluster-probe.js'
import { FileProbeKeyStore, MemoryProbeKeyStore, sealedBoxSealer, type ProbeKeyStore } from '../../../../coordinator/gate/probe-key-store.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { coordinatorBoxWithKey } from '../../../../coordinator/store/coordinator-sealing.js'
import { parseApiKey } from '../../../../shared/minkms/keys.js'
import { EXTERNAL_HSM_NAME } from '../../../../shared/schemas/hsm-migration.js'
import { clientFor, configYaml, freshDir, startNode, testEnv, waitUntil, type TestEnv, type TestNode } from '../../lab/emulator/helpers/harness.js'
import { externalKm } from '../../lab/emulator/helpers/external-km.js'

function ref (n: TestNode, name: string): NodeRef {
  return { cluster: 'c1', name, agentUrl: 'https://127.0.0.1:1', minkms: n.emu.host }
}

async function cluster (env: TestEnv, size: number): Promise<TestNode[]> {
  const nodes: TestNode[] = []
  for (let i = 0; i < size; i++) nodes.push(await startNode(env))
  const first = nodes[0] as TestNode
  const root = clientFor(env, first.emu.host, first.emu.rootApiKey)
  for (const n of nodes.slice(1)) await root.addNode(n.emu.host)
  return nodes
}

function probeOf (t: Test, env: TestEnv, admin: string, keys: ProbeKeyStore = new MemoryProbeKeyStore(), extra: Partial<ProbeCluster> = {}): MinkmsClusterProbe {
  const p = new MinkmsClusterProbe({ clusters: [{ name: 'c1', ca: env.pki.caPem, adminApiKey: admin, ...extra }], keys, timeoutMs: 3000 })
  t.teardown(() => p.close())
  return p
}

t.test('ready, ready?write and the member list, with a member down', async t => {
  const env = await testEnv(t)
  const [n0, n1, n2] = await cluster(env, 3) as [TestNode, TestNode, TestNode]
  const probe = probeOf(t, env, n0.emu.rootApiKey)
  t.equal(await probe.ready(ref(n1, 'node2')), true)
  t.equal(await probe.ready(ref(n1, 'node2'), { write: true }), true)
  t.same(await probe.members(ref(n1, 'node2')), [
    { endpoint: n0.emu.host, up: true }, { endpoint: n1.emu.host, up: true }, { endpoint: n2.emu.host, up: true }
  ], 'every member, in id order, as another node sees them')

  await n2.emu.close()
  t.same(await probe.members(ref(n0, 'node1')), [
    { endpoint: n0.emu.host, up: true }, { endpoint: n1.emu.host, up: true }, { endpoint: n2.emu.host, up: false }
  ])
  await waitUntil('the write quorum is lost', async () => !(await probe.ready(ref(n0, 'node1'), { write: true })))
  t.equal(await probe.ready(ref(n0, 'node1')), true, 'reads stay available')
  await t.rejects(probe.ready(ref(n2, 'node3')), { code: 'CRD_MINKMS_UNREACHABLE', node: 'node3', message: /readiness: minkms of node node3 .* is unreachable/ })
  await t.rejects(probe.members(ref(n2, 'node3')), { code: 'CRD_MINKMS_UNREACHABLE' })
})

t.test('hsmStatus: each node\'s own HSMs, from its own entry of the cluster status', async t => {
  const env = await testEnv(t)
  // An external Key Manager (its own HSM key) with the enclave, an Admin identity and the key.
  const ext = await externalKm(env)
  // node1 on the soft HSM only; node2 with hsm.minio.minkms too (it seals its root key there at start).
  const [n0] = await cluster(env, 1) as [TestNode]
  const n1 = await startNode(env, { config: configYaml(env.pki, ext.spec) })
  await clientFor(env, n0.emu.host, n0.emu.rootApiKey).addNode(n1.emu.host)
  const probe = probeOf(t, env, n0.emu.rootApiKey)

  t.same(await probe.hsmStatus(ref(n0, 'node1')), { configured: ['hsm:minio:soft'], sealed: ['hsm:minio:soft'] })
  t.same(await probe.hsmStatus(ref(n1, 'node2')), { configured: ['hsm:minio:soft', EXTERNAL_HSM_NAME], sealed: [EXTERNAL_HSM_NAME, 'hsm:minio:soft'] },
    'node2\'s own entry, not node1\'s')

  // An endpoint the cluster does not know the node by: no guessing from another entry.
  const alias: NodeRef = { ...ref(n1, 'node2'), minkms: n1.emu.host.replace('127.0.0.1', 'localhost') }
  await t.rejects(probe.hsmStatus(alias), { code: 'CRD_MINKMS_PROBE_FAILED', node: 'node2', message: /HSM status: minkms of node node2 .*: its cluster status has no entry for localhost:\d+ \(it lists 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\)/ })

  await n1.emu.close()
  await t.rejects(probe.hsmStatus(ref(n1, 'node2')), { code: 'CRD_MINKMS_UNREACHABLE', node: 'node2', message: /HSM status: minkms of node node2/ })
})

t.test('removeHsm: CLUSTER:REMOVEHSM through a node drops that sealed copy; minkms refuses the last one', async t => {
  const env = await testEnv(t)
  const ext = await externalKm(env)
  const n = await startNode(env, { config: configYaml(env.pki, ext.spec) })
  const probe = probeOf(t, env, n.emu.rootApiKey)
  const node = ref(n, 'node1')
  t.same((await probe.hsmStatus(node)).sealed, [EXTERNAL_HSM_NAME, 'hsm:minio:soft'], 'both HSMs hold a sealed copy')

  await probe.removeHsm(node, 'hsm:minio:soft')
  t.same(await probe.hsmStatus(node), { configured: ['hsm:minio:soft', EXTERNAL_HSM_NAME], sealed: [EXTERNAL_HSM_NAME] }, 'the local copy is gone, the HSM still configured')
  await t.rejects(probe.removeHsm(node, 'hsm:minio:soft'), { code: 'CRD_MINKMS_PROBE_FAILED', node: 'node1', message: /CLUSTER:REMOVEHSM hsm:minio:soft: .*holds no sealed root encryption key/ }, 'a second removal is an error, not a silent success')
  await t.rejects(probe.removeHsm(node, EXTERNAL_HSM_NAME), { code: 'CRD_MINKMS_PROBE_FAILED', message: /no other configured HSM holds a sealed root encryption key/ }, 'the last copy cannot be removed')
  t.same((await probe.hsmStatus(node)).sealed, [EXTERNAL_HSM_NAME], 'still sealed under the external HSM')
})

t.test('provision (twice), then a client round trip with the probe identity', async t => {
  const env = await testEnv(t)
  const [n0] = await cluster(env, 1) as [TestNode]
  const keys = new MemoryProbeKeyStore()
  const probe = probeOf(t, env, n0.emu.rootApiKey, keys)
  const node = ref(n0, 'node1')
  await t.rejects(probe.clientRoundTrip(node), { code: 'CRD_MINKMS_PROBE_FAILED', message: /no probe identity yet; provision it first/ })

  await probe.provision('c1', node)
  const apiKey = await keys.get('c1')
  t.ok(apiKey?.startsWith('k2:'), 'a key was made and kept')
  const identity = parseApiKey(apiKey ?? '').identity
  const root = clientFor(env, n0.emu.host, n0.emu.rootApiKey)
  t.match(await root.identityStatus('keyroll-probe', identity), { identity, privilege: 'Admin' }, 'only the identity went to minkms')
  t.match(await root.keyStatus('keyroll-probe', 'keyroll-probe'), { name: 'keyroll-probe' })

  await probe.provision('c1', node)
  t.equal(await keys.get('c1'), apiKey, 'provisioning again keeps the key')
  t.equal((await root.listIdentities('keyroll-probe')).items.length, 1, 'and creates nothing twice')

  await probe.clientRoundTrip(node)
  t.notOk(n0.logs.text().includes((apiKey ?? '').slice(3)), 'the probe key is not in the minkms log')
})

t.test('a round trip refused by minkms is a probe failure, not unreachable', async t => {
  const env = await testEnv(t)
  const [n0] = await cluster(env, 1) as [TestNode]
  const keys = new MemoryProbeKeyStore()
  const probe = probeOf(t, env, n0.emu.rootApiKey, keys, { probeEnclave: 'probes', probeKey: 'p1' })
  await probe.provision('c1', ref(n0, 'node1'))
  await clientFor(env, n0.emu.host, n0.emu.rootApiKey).deleteKey('probes', 'p1', { allVersions: true })
  await t.rejects(probe.clientRoundTrip(ref(n0, 'node1')), { code: 'CRD_MINKMS_PROBE_FAILED', statusCode: 502, message: /client round trip: minkms of node node1 .*: key does not exist/ })
})

t.test('the probe key survives a coordinator restart, sealed in the state dir', async t => {
  const env = await testEnv(t)
  const [n0] = await cluster(env, 1) as [TestNode]
  const stateDir = freshDir(env, 'state')
  const boxKey = randomBytes(32)
  const before = probeOf(t, env, n0.emu.rootApiKey, new FileProbeKeyStore(stateDir, sealedBoxSealer(coordinatorBoxWithKey(boxKey))))
  await before.provision('c1', ref(n0, 'node1'))
  await before.close()

  const store = new FileProbeKeyStore(stateDir, sealedBoxSealer(coordinatorBoxWithKey(boxKey)))
  const apiKey = await store.get('c1')
  t.ok(apiKey !== undefined)
  t.notOk((await readFile(store.path, 'utf8')).includes((apiKey ?? '').slice(3)), 'the file does not hold the key in clear')
  const after = probeOf(t, env, n0.emu.rootApiKey, store)
  await after.clientRoundTrip(ref(n0, 'node1'))
  t.equal((await clientFor(env, n0.emu.host, n0.emu.rootApiKey).listIdentities('keyroll-probe')).items.length, 1, 'no second identity')
})

t.test('an admin key that is not an API key fails at construction, without quoting it', async t => {
  let message = ''
  try {
    // eslint-disable-next-line no-new
    new MinkmsClusterProbe({ clusters: [{ name: 'c1', ca: '', adminApiKey: 'k1:not-a-key' }], keys: new MemoryProbeKeyStore() })
  } catch (err) {
    message = (err as Error).message
  }
  t.match(message, /k1: API key/)
  t.notOk(message.includes('not-a-key'))
  const probe = new MinkmsClusterProbe({ clusters: [], keys: new MemoryProbeKeyStore() })
  await t.rejects(probe.provision('nope', { cluster: 'nope', name: 'n', agentUrl: 'https://x', minkms: '127.0.0.1:1' }), { code: 'CRD_MINKMS_PROBE_FAILED', message: /cluster nope is not configured/ })
})

t.test('an aborted probe rejects with the reason at once', async t => {
  const env = await testEnv(t)
  const [n0] = await cluster(env, 1) as [TestNode]
  const probe = probeOf(t, env, n0.emu.rootApiKey)
  const ac = new AbortController()
  ac.abort(new Error('step aborted'))
  await t.rejects(probe.ready(ref(n0, 'node1'), { signal: ac.signal }), { message: 'step aborted' })
  const late = new AbortController()
  const p = probe.members(ref(n0, 'node1'), { signal: late.signal })
  late.abort(new Error('gate deadline'))
  await t.rejects(p, { message: 'gate deadline' })
})

t.test('root calls take their key from an AdminKeySource; a refused one adopts once and is sent once more', async t => {
  const { generateApiKey } = await import('../../../../shared/minkms/keys.js')
  const { Secret } = await import('../../../../shared/secrets/secret.js')
  const env = await testEnv(t)
  const [n0] = await cluster(env, 1) as [TestNode]
  const stale = generateApiKey('k1').key
  let key = stale
  let refusals = 0
  let adoptsTo: string | undefined = n0.emu.rootApiKey
  const source = {
    current: async () => new Secret(key),
    refused: async () => {
      refusals++
      if (adoptsTo === undefined) return false
      key = adoptsTo
      return true
    }
  }
  const p = new MinkmsClusterProbe({ clusters: [{ name: 'c1', ca: env.pki.caPem, adminApiKey: stale }], keys: new MemoryProbeKeyStore(), timeoutMs: 3000, adminKeys: source })
  t.teardown(() => p.close())
  const via = ref(n0, 'node1')
  t.same(await p.members(via), [{ endpoint: n0.emu.host, up: true }], 'refused with the old key, answered with the adopted one')
  t.equal(refusals, 1)
  await p.members(via)
  t.equal(refusals, 1, 'the adopted key is used from then on')
  key = stale
  adoptsTo = undefined
  await t.rejects(p.hsmStatus(via), { code: 'CRD_MINKMS_PROBE_FAILED', message: /HSM status: .*access denied/ }, 'nothing adopted: the refusal stands')
  t.equal(refusals, 2, 'asked once per call')
  await p.checkRootKey(via, new Secret(n0.emu.rootApiKey))
  await t.rejects(p.checkRootKey(via, new Secret(stale)), { code: 'CRD_MINKMS_PROBE_FAILED', message: /root key check/ })
  await n0.emu.close()
  await t.rejects(p.members(via), { code: 'CRD_MINKMS_UNREACHABLE' })
  t.equal(refusals, 2, 'an unreachable node is no refusal: nothing adopted')
})
