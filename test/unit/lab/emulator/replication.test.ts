// Replication between in-process nodes on loopback: a write made through any member exists on
// every member with the same key material, writes need every member (reads do not), a stopped
// member comes back and writes work again, a member that lost its key database catches up, and the
// refuse-peers fault cuts a node off from its cluster.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { MinkmsClient } from '../../../../shared/minkms/client.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { clientFor, startNode, testEnv, waitUntil, type TestEnv, type TestNode } from './helpers/harness.js'

async function cluster (env: TestEnv, size: number, first?: TestNode): Promise<TestNode[]> {
  const nodes: TestNode[] = [first ?? await startNode(env)]
  for (let i = 1; i < size; i++) nodes.push(await startNode(env))
  const root = clientFor(env, (nodes[0] as TestNode).emu.host, (nodes[0] as TestNode).emu.rootApiKey)
  for (const n of nodes.slice(1)) await root.addNode(n.emu.host)
  return nodes
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Starts a stopped member again on its data directory and address. */
async function restart (env: TestEnv, n: TestNode, faults?: Record<string, string>): Promise<TestNode> {
  await n.emu.close()
  return await startNode(env, { dataDir: n.dataDir, address: n.emu.host, ...(faults !== undefined && { faults }) })
}

t.test('a write through any member exists on every member, with the same key material', async (t) => {
  const env = await testEnv(t)
  // Data made before the cluster exists travels with the join.
  const n0 = await startNode(env)
  const key = n0.emu.rootApiKey
  await clientFor(env, n0.emu.host, key).createEnclave('before')
  await clientFor(env, n0.emu.host, key).createKey('before', 'k0')
  const early = await clientFor(env, n0.emu.host, key).encrypt('before', 'k0', text('made alone'))
  const [, n1, n2] = await cluster(env, 3, n0) as [TestNode, TestNode, TestNode]
  const on = (n: TestNode, apiKey = key): MinkmsClient => clientFor(env, n.emu.host, apiKey)
  t.same(Buffer.from(await on(n2).decrypt('before', 'k0', early.ciphertext, { version: early.version })), Buffer.from('made alone'),
    'the joined node got the key database with the material')

  // Through a follower (node 1): forwarded to the leader, applied everywhere.
  await on(n1).createEnclave('tenant')
  const admin = generateApiKey()
  await on(n1).createIdentity('tenant', { identity: admin.identity, privilege: 'Admin' })
  await on(n1, admin.key).createKey('tenant', 'seal')
  for (const n of [n0, n1, n2]) {
    t.same((await on(n).listEnclaves()).items.map((e) => e.name), ['before', 'tenant'], `${n.emu.host}: the enclaves`)
    t.equal((await on(n).identityStatus('tenant', admin.identity)).privilege, 'Admin', `${n.emu.host}: the identity`)
    t.equal((await on(n, admin.key).keyStatus('tenant', 'seal')).version, 1, `${n.emu.host}: the key`)
  }
  const ad = text('rek')
  const sealed = await on(n1, admin.key).encrypt('tenant', 'seal', text('secret'), { associatedData: ad })
  for (const n of [n0, n2]) {
    t.same(Buffer.from(await on(n, admin.key).decrypt('tenant', 'seal', sealed.ciphertext, { version: sealed.version, associatedData: ad })),
      Buffer.from('secret'), `encrypted on node 1, decrypted on ${n.emu.host}`)
  }
  const generated = await on(n2, admin.key).generateKey('tenant', 'seal')
  t.same(Buffer.from(await on(n0, admin.key).decrypt('tenant', 'seal', generated.ciphertext, { version: generated.version })),
    Buffer.from(generated.plaintext), 'a data key made on node 2 opens on node 0')

  // A client failing over between all endpoints sees one database.
  const all = clientFor(env, [n0, n1, n2].map((n) => n.emu.host), admin.key)
  await on(n2, admin.key).createKey('tenant', 'seal', { addVersion: true })
  t.equal((await all.keyStatus('tenant', 'seal')).version, 2, 'a new version made through node 2')
  await on(n0, admin.key).deleteKey('tenant', 'seal', { version: 1 })
  await t.rejects(on(n1, admin.key).keyStatus('tenant', 'seal', { version: 1 }), { statusCode: 404, message: 'key does not exist' }, 'a version deleted through node 0 is gone on node 1')
  await on(n2).deleteIdentity('tenant', admin.identity)
  await t.rejects(on(n0, admin.key).keyStatus('tenant', 'seal'), { statusCode: 403, message: 'access denied: insufficient permissions' }, 'an identity deleted through node 2 is gone on node 0')

  // Refusals come from the leader with minkms's exact errors, wherever the write arrived.
  await t.rejects(on(n2).createEnclave('tenant'), { statusCode: 409, message: 'enclave already exists' })
  await t.rejects(on(n1).deleteKey('tenant', 'missing'), { statusCode: 404, message: 'key does not exist' })

  const status = await on(n1).clusterStatus()
  const commits = Object.values(status.nodesUp).map((s) => s.commit)
  t.equal(new Set(commits).size, 1, 'every member is at the same revision')
  t.ok((commits[0] ?? 0) > 0, 'the revision counts the writes')
  t.match(n2.logs.text(), /INFO {2}Replicated key database revision \d+ from node 0/)
  t.notMatch(n0.logs.text() + n1.logs.text() + n2.logs.text(), admin.key, 'no API key in the logs')
})

t.test('writes need every member; reads do not; a restarted member takes writes again', async (t) => {
  const env = await testEnv(t)
  const [n0, n1, n2] = await cluster(env, 3) as [TestNode, TestNode, TestNode]
  const key = n0.emu.rootApiKey
  const on = (n: TestNode): MinkmsClient => clientFor(env, n.emu.host, key)
  await on(n0).createEnclave('e')
  await on(n0).createKey('e', 'k')
  const sealed = await on(n0).encrypt('e', 'k', text('data'))

  await n2.emu.close()
  const down = new RegExp(`^no write quorum: cluster members are down: 2 \\(${n2.emu.host.replace(/\./g, '\\.')}\\)$`)
  await t.rejects(on(n0).createKey('e', 'k2'), { statusCode: 503, message: down }, 'refused on the leader')
  await t.rejects(on(n1).createKey('e', 'k2'), { statusCode: 503, message: down }, 'refused on a follower')
  await t.rejects(on(n1).deleteEnclave('e'), { statusCode: 503, message: down }, 'every kind of write')
  t.same(Buffer.from(await on(n1).decrypt('e', 'k', sealed.ciphertext, { version: sealed.version })), Buffer.from('data'), 'decrypt still works')
  t.equal((await on(n1).encrypt('e', 'k', text('more'))).version, 1, 'encrypt still works')
  t.same((await on(n1).listKeys('e')).items.map((k) => k.name), ['k'], 'lists still work, and nothing was written')

  const back = await restart(env, n2)
  const probe = clientFor(env, n1.emu.host)
  await waitUntil('write quorum back', async () => await probe.ready({ write: true }))
  await on(n1).createKey('e', 'k2')
  t.equal((await on(back).keyStatus('e', 'k2')).name, 'k2', 'the restarted member takes the write')
  t.same(Buffer.from(await on(back).decrypt('e', 'k', sealed.ciphertext, { version: sealed.version })), Buffer.from('data'))

  // The leader down: a follower refuses the write itself, naming the leader.
  await n0.emu.close()
  await t.rejects(on(n1).createKey('e', 'k3'), { statusCode: 503, message: /^no write quorum: the leader, node 0 \(.*\), is unreachable: / })
  t.equal((await on(back).keyStatus('e', 'k2')).version, 1, 'reads still work on the others')
})

t.test('a member that lost its key database catches up at start', async (t) => {
  const env = await testEnv(t)
  const [n0, n1] = await cluster(env, 2) as [TestNode, TestNode]
  const key = n0.emu.rootApiKey
  await clientFor(env, n0.emu.host, key).createEnclave('e')
  await clientFor(env, n0.emu.host, key).createKey('e', 'k')
  const sealed = await clientFor(env, n0.emu.host, key).encrypt('e', 'k', text('kept'))
  await n1.emu.close()
  rmSync(join(n1.dataDir, 'db.json'))
  const back = await restart(env, n1)
  t.match(back.logs.text(), /INFO {2}Caught up with node 0 \(.*\): key database revision 2 \(was 0\)/)
  t.same(Buffer.from(await clientFor(env, back.emu.host, key).decrypt('e', 'k', sealed.ciphertext, { version: sealed.version })),
    Buffer.from('kept'), 'the key is back with its material')
})

t.test('refuse-peers: the node serves its clients but its peers see it down', async (t) => {
  const env = await testEnv(t)
  const [n0, n1, n2] = await cluster(env, 3) as [TestNode, TestNode, TestNode]
  const key = n0.emu.rootApiKey
  await clientFor(env, n0.emu.host, key).createEnclave('e')
  const cut = await restart(env, n2, { 'refuse-peers': '' })
  t.equal(cut.logs.lines.at(-1), '=> Server is up and running...', 'the ready line is printed as usual')
  t.match(cut.logs.text(), /WARN {2}fault injection active: refuse-peers/)
  t.equal(await clientFor(env, cut.emu.host).ready(), true, 'it answers its own readiness probe')
  t.same((await clientFor(env, cut.emu.host, key).listEnclaves()).items.map((e) => e.name), ['e'], 'and reads')

  for (const n of [n0, n1]) {
    const st = await clientFor(env, n.emu.host, key).clusterStatus()
    t.same(Object.keys(st.nodesUp), ['0', '1'], `${n.emu.host} sees 0 and 1 up`)
    t.same(st.nodesDown, { 2: cut.emu.host }, `${n.emu.host} sees node 2 down`)
  }
  const own = await clientFor(env, cut.emu.host, key).clusterStatus()
  t.same(Object.keys(own.nodesUp), ['2'], 'the cut-off node sees only itself')
  t.same(own.nodesDown, { 0: n0.emu.host, 1: n1.emu.host }, 'the member list is the same everywhere')
  t.equal(await clientFor(env, n0.emu.host).ready({ write: true }), false, 'no write quorum')
  await t.rejects(clientFor(env, n1.emu.host, key).createKey('e', 'k'), { statusCode: 503, message: /^no write quorum: cluster members are down: 2 / })
  await t.rejects(clientFor(env, cut.emu.host, key).createKey('e', 'k'), { statusCode: 503, message: /^no write quorum: the leader, node 0 .* is unreachable: .*fault refuse-peers/ })

  const healed = await restart(env, cut)
  await waitUntil('write quorum back', async () => await clientFor(env, n0.emu.host).ready({ write: true }))
  await clientFor(env, healed.emu.host, key).createKey('e', 'k')
  t.equal((await clientFor(env, n0.emu.host, key).keyStatus('e', 'k')).name, 'k', 'without the fault it is a member again')
})

t.test('refuse-peers: a fresh node with the fault does not join', async (t) => {
  const env = await testEnv(t)
  const [n0, n1] = await cluster(env, 2) as [TestNode, TestNode]
  const loner = await startNode(env, { faults: { 'refuse-peers': '' } })
  // Asked of a follower: the leader runs it and its refusal comes back unchanged.
  await t.rejects(clientFor(env, n1.emu.host, n0.emu.rootApiKey).addNode(loner.emu.host),
    { statusCode: 503, message: `cannot add node '${loner.emu.host}': internode calls are refused (fault refuse-peers)` })
  t.same(Object.keys((await clientFor(env, n1.emu.host, n0.emu.rootApiKey).clusterStatus()).nodesUp), ['0', '1'], 'the cluster is unchanged')
})
