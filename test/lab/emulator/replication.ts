// Replication of the key database, N-of-N like minkms: a write runs on the leader only (members
// forward it there), needs every member up and ready, is run on a staged copy, pushed to every
// follower as a full replica, and only then committed on the leader. Every committed state has a
// revision; a follower takes only a higher one. When a follower fails to take a write, the leader
// answers 503 and pushes its unchanged state under a yet higher revision, so the members that took
// the failed write drop it again. A member that missed revisions (it was down while a write
// failed half-way, or lost db.json) catches up at start from the peer with the highest revision.
import type { ClusterManager } from './cluster.js'
import { PEER_WRITE_TIMEOUT_MS } from './cluster.js'
import { describeError } from './fatal-error.js'
import type { DbFile, KeyDatabase } from './key-database.js'
import { conflict, KmsHttpError, unavailable } from './kms-error.js'
import type { EmulatorLog } from './log.js'
import { replyMessage, type PeerTransport } from './peer-transport.js'
import { fromReplica, toReplica } from './replica-state.js'
import { isForwardReply, isReplicaMessage, type ForwardRequest, type ReplicaMessage } from './rpc-types.js'
import { Serial } from './serial.js'

export interface ReplicationDeps {
  cluster: ClusterManager
  db: KeyDatabase
  transport: PeerTransport
  replicaKey: Buffer
  log: EmulatorLog
}

/** The text every write refused for want of members starts with (emulator choice; minkms's text is undocumented). */
export const NO_QUORUM = 'no write quorum'

export class Replication {
  readonly #deps: ReplicationDeps
  readonly #accepting = new Serial()

  constructor (deps: ReplicationDeps) {
    this.#deps = deps
  }

  /** True when this node runs writes itself; otherwise it forwards them to the leader. */
  get isLeader (): boolean {
    const { cluster } = this.#deps
    return cluster.leaderId === cluster.info.nodeId
  }

  /**
   * Runs a key database write on the leader. `run` changes the staged copy it is given; when it
   * changed something, every follower must take the new state before the leader commits it.
   */
  async write<T> (run: (staged: KeyDatabase) => Promise<T>): Promise<T> {
    const { cluster, db } = this.#deps
    return await cluster.exclusive(async () => {
      const statuses = await cluster.memberStatuses()
      const down = cluster.downMembers(statuses)
      if (down.length > 0) throw unavailable(`${NO_QUORUM}: cluster members are down: ${down.join(', ')}`)
      const staged = db.staged()
      const result = await run(staged)
      if (staged.revision === db.revision) return result
      const revision = Math.max(db.revision, ...[...statuses.values()].map((s) => s?.revision ?? 0)) + 1
      const state = staged.snapshot()
      await this.#replicate(state, revision)
      await db.install(state, revision)
      return result
    })
  }

  /** Pushes `state` as `revision` to every follower; on a failure undoes it where it landed and throws 503. */
  async #replicate (state: DbFile, revision: number): Promise<void> {
    const { cluster, db, log } = this.#deps
    const followers = Object.keys(cluster.info.nodes).map(Number).filter((id) => id !== cluster.info.nodeId)
    if (followers.length === 0) return
    const results = await Promise.all(followers.map(async (id) => ({ id, error: await this.#push(id, state, revision) })))
    const failed = results.filter((r) => r.error !== undefined)
    if (failed.length === 0) return
    const undo = revision + 1
    const current = db.snapshot()
    await Promise.all(results.filter((r) => r.error === undefined).map(async ({ id }) => {
      const error = await this.#push(id, current, undo)
      if (error !== undefined) log.warn(`cannot undo a failed write on node ${id}: ${error} (it catches up when it restarts)`)
    }))
    await db.install(current, undo)
    const why = failed.map((f) => `node ${f.id} (${cluster.info.nodes[f.id] ?? ''}): ${f.error ?? ''}`).join('; ')
    log.warn(`write not applied (undone as key database revision ${undo}): ${why}`)
    throw unavailable(`${NO_QUORUM}: the write was not applied: ${why}`)
  }

  /** Sends one replica; resolves with why it failed, or undefined. */
  async #push (id: number, state: DbFile, revision: number): Promise<string | undefined> {
    const { cluster, db, replicaKey, transport } = this.#deps
    const info = cluster.info
    const msg: ReplicaMessage = { clusterId: info.clusterId, leaderId: info.nodeId, revision, state: toReplica(db, replicaKey, state) }
    try {
      const reply = await transport.call(info.nodes[id] ?? '', 'POST', '/v1/rpc/replicate', msg, PEER_WRITE_TIMEOUT_MS)
      return reply.status === 200 ? undefined : replyMessage(reply)
    } catch (err) {
      return `unreachable: ${describeError(err)}`
    }
  }

  /** /v1/rpc/replicate on a follower: installs the leader's state when it is newer than its own. */
  async acceptReplica (msg: ReplicaMessage): Promise<void> {
    const { cluster, db, replicaKey, log } = this.#deps
    await this.#accepting.run(async () => {
      const info = cluster.info
      if (msg.clusterId !== info.clusterId) throw conflict(`node is a member of cluster ${info.clusterId}, not ${msg.clusterId}`)
      if (msg.leaderId !== cluster.leaderId || msg.leaderId === info.nodeId) {
        throw conflict(`node ${msg.leaderId} is not the leader of cluster ${info.clusterId} (node ${cluster.leaderId} is)`)
      }
      if (msg.revision <= db.revision) throw conflict(`stale key database revision ${msg.revision} (this node has ${db.revision})`)
      await db.install(fromReplica(db, replicaKey, msg.state), msg.revision)
      log.info(`Replicated key database revision ${msg.revision} from node ${msg.leaderId}`)
    })
  }

  /** GET /v1/rpc/state: this node's key database as a replica. */
  replica (): ReplicaMessage {
    const { cluster, db, replicaKey } = this.#deps
    const state = db.snapshot()
    return { clusterId: cluster.info.clusterId, leaderId: cluster.leaderId, revision: state.revision ?? 0, state: toReplica(db, replicaKey, state) }
  }

  /** Hands a write this node received to the leader and returns the leader's answer (or throws its error). */
  async forward (caller: string, enclave: string, body: Uint8Array): Promise<Buffer> {
    const { cluster, transport } = this.#deps
    const id = cluster.leaderId
    const host = cluster.info.nodes[id] ?? ''
    const req: ForwardRequest = { enclave, caller, body: Buffer.from(body).toString('base64') }
    let reply
    try {
      reply = await transport.call(host, 'POST', '/v1/rpc/forward', req, PEER_WRITE_TIMEOUT_MS)
    } catch (err) {
      throw unavailable(`${NO_QUORUM}: the leader, node ${id} (${host}), is unreachable: ${describeError(err)}`)
    }
    if (reply.status !== 200 || !isForwardReply(reply.body)) {
      throw unavailable(`${NO_QUORUM}: the leader, node ${id} (${host}), refused the write: ${replyMessage(reply)}`)
    }
    const answer = reply.body
    if (answer.status !== 200) throw new KmsHttpError(answer.status, answer.message ?? `HTTP ${answer.status}`)
    return Buffer.from(answer.body ?? '', 'base64')
  }

  /**
   * At start: when a peer holds a higher revision than this node (this node lost db.json, or was
   * down while a write failed half-way), installs that peer's state. Unreachable peers are skipped:
   * writes need every member, so a peer that cannot be asked cannot be ahead by a successful write.
   */
  async catchUp (): Promise<void> {
    const { cluster, db, replicaKey, transport, log } = this.#deps
    const info = cluster.info
    if (Object.keys(info.nodes).length < 2) return
    const statuses = await cluster.memberStatuses()
    let best: { id: number, revision: number } | undefined
    for (const [id, s] of statuses) {
      if (id === info.nodeId || s === undefined) continue
      if (s.revision > (best?.revision ?? db.revision)) best = { id, revision: s.revision }
    }
    if (best === undefined) return
    const host = info.nodes[best.id] ?? ''
    try {
      const reply = await transport.call(host, 'GET', '/v1/rpc/state', undefined, PEER_WRITE_TIMEOUT_MS)
      const msg = reply.body
      if (reply.status !== 200 || !isReplicaMessage(msg) || msg.clusterId !== info.clusterId) throw new Error(replyMessage(reply))
      const was = db.revision
      await db.install(fromReplica(db, replicaKey, msg.state), msg.revision)
      log.info(`Caught up with node ${best.id} (${host}): key database revision ${msg.revision} (was ${was})`)
    } catch (err) {
      log.warn(`cannot catch up with node ${best.id} (${host}): ${describeError(err)}`)
    }
  }
}
