// The leader's side of replication against a scripted peer transport: a write one follower does
// not take is undone where it landed, and a follower refuses replicas that are stale or that do
// not come from its leader.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { ClusterManager } from '../../../lab/emulator/cluster.js'
import { ClusterStore, type ClusterInfo } from '../../../lab/emulator/cluster-state.js'
import { KeyDatabase } from '../../../lab/emulator/key-database.js'
import type { PeerReply, PeerTransport } from '../../../lab/emulator/peer-transport.js'
import { fromReplica, replicaKey, toReplica } from '../../../lab/emulator/replica-state.js'
import { Replication } from '../../../lab/emulator/replication.js'
import { isReplicaMessage, type PeerStatus, type ReplicaMessage } from '../../../lab/emulator/rpc-types.js'
import { LogCapture } from './helpers/harness.js'

const REK = Buffer.alloc(32, 7)
const KEY = replicaKey('k1:' + Buffer.alloc(32, 3).toString('base64url'))
const INFO: ClusterInfo = { clusterId: 'c', nodeId: 0, nodes: { 0: 'h0:1', 1: 'h1:1', 2: 'h2:1' } }

function status (id: number, revision: number): PeerStatus {
  const nodes = { 0: 'h0:1', 1: 'h1:1', 2: 'h2:1' }
  return { clusterId: 'c', id, host: `h${id}:1`, version: 'v', apiVersion: 'v1', upTimeMs: 1, nodes, hsms: [], configuredHsms: [], ready: true, revision }
}

/** Peers that answer status probes and record the replicas they get; `refuse` ids answer replicas with 500. */
class ScriptedPeers implements PeerTransport {
  readonly replicas: Array<{ host: string, msg: ReplicaMessage }> = []
  constructor (readonly refuse: Set<string>) {}
  async call (host: string, method: 'GET' | 'POST', path: string, body: unknown): Promise<PeerReply> {
    const id = Number(/^h(\d)/.exec(host)?.[1])
    if (path === '/v1/rpc/status') return { status: 200, body: status(id, 0) }
    if (method === 'POST' && path === '/v1/rpc/replicate' && isReplicaMessage(body)) {
      if (this.refuse.has(host)) return { status: 500, body: { message: 'disk full' } }
      this.replicas.push({ host, msg: body })
      return { status: 200, body: {} }
    }
    throw new Error(`unexpected ${method} ${host}${path}`)
  }
}

async function node (t: Test, info: ClusterInfo, transport: PeerTransport): Promise<{ db: KeyDatabase, replication: Replication, logs: LogCapture }> {
  const dir = t.testdir()
  const db = await KeyDatabase.open(join(dir, 'db.json'), REK)
  const logs = new LogCapture()
  const cluster = new ClusterManager({
    store: new ClusterStore(join(dir, 'cluster.json')),
    info,
    transport,
    log: logs.log,
    localStatus: async () => status(info.nodeId, db.revision),
    localHsm: async () => {},
    host: info.nodes[info.nodeId] ?? '',
    db,
    replicaKey: KEY
  })
  return { db, logs, replication: new Replication({ cluster, db, transport, replicaKey: KEY, log: logs.log }) }
}

t.test('a write a follower does not take is undone where it landed', async (t) => {
  const peers = new ScriptedPeers(new Set(['h2:1']))
  const { db, replication, logs } = await node(t, INFO, peers)
  const err = await replication.write(async (staged) => await staged.createEnclave('e', 'h1:x')).then(() => undefined, (e: unknown) => e as Error & { status: number })
  t.equal(err?.status, 503)
  t.equal(err?.message, 'no write quorum: the write was not applied: node 2 (h2:1): disk full')
  const toNode1 = peers.replicas.filter((r) => r.host === 'h1:1').map((r) => r.msg)
  t.same(toNode1.slice(-2).map((m) => [m.revision, Object.keys(m.state.enclaves)]), [[db.revision - 1, ['e']], [db.revision, []]],
    'node 1 got the write, then the unchanged state under a higher revision')
  t.equal(db.enclave('e'), undefined, 'the leader did not commit it')
  t.match(logs.text(), /WARN {2}write not applied \(undone as key database revision 2\): node 2 \(h2:1\): disk full/)
})

t.test('writes that change nothing are not replicated', async (t) => {
  const peers = new ScriptedPeers(new Set())
  const { db, replication } = await node(t, INFO, peers)
  t.equal(await replication.write(async (staged) => await staged.deleteEnclave('missing')), 'enclave-missing')
  t.equal(peers.replicas.length, 0)
  t.equal(db.revision, 0)
  t.equal(await replication.write(async (staged) => await staged.createEnclave('e', '')), 'ok')
  t.same(peers.replicas.map((r) => [r.host, r.msg.revision]), [['h1:1', 1], ['h2:1', 1]])
  t.equal(db.revision, 1)
  const copy = fromReplica(db, KEY, (peers.replicas[0] as { msg: ReplicaMessage }).msg.state)
  t.same(Object.keys(copy.enclaves), ['e'])
})

t.test('a follower takes only newer replicas from its leader', async (t) => {
  const { db, replication, logs } = await node(t, { ...INFO, nodeId: 1 }, new ScriptedPeers(new Set()))
  const leader = await KeyDatabase.open(join(t.testdir(), 'leader.json'), Buffer.alloc(32, 8))
  await leader.createEnclave('e', '')
  await leader.createKey('e', 'k', 'AES256', false, '')
  const state = toReplica(leader, KEY)
  await replication.acceptReplica({ clusterId: 'c', leaderId: 0, revision: 5, state })
  t.equal(db.revision, 5)
  t.same(db.keyVersion('e', 'k', 1)?.material, leader.keyVersion('e', 'k', 1)?.material, 'the same key material under another REK')
  t.match(logs.text(), /Replicated key database revision 5 from node 0/)
  await t.rejects(replication.acceptReplica({ clusterId: 'c', leaderId: 0, revision: 5, state }), { status: 409, message: 'stale key database revision 5 (this node has 5)' })
  await t.rejects(replication.acceptReplica({ clusterId: 'c', leaderId: 2, revision: 6, state }), { status: 409, message: /^node 2 is not the leader/ })
  await t.rejects(replication.acceptReplica({ clusterId: 'other', leaderId: 0, revision: 6, state }), { status: 409, message: 'node is a member of cluster c, not other' })
  t.equal(db.revision, 5, 'nothing refused was installed')
})
