// Cluster membership at run time: every member's list of id → host, kept in step so that
// CLUSTER:STATUS, the write quorum (/v1/health/ready?write), the cluster-wide HSM commands and the
// replication of the key database (replication.ts) reach every member. Every write runs on the
// leader (the lowest member id) under one lock, so members apply writes in one order.
import { normaliseServer } from './config.js'
import { memberIds, type ClusterInfo, type ClusterStore } from './cluster-state.js'
import { describeError } from './fatal-error.js'
import { badGateway, badRequest, conflict, KmsHttpError, unavailable } from './kms-error.js'
import type { EmulatorLog } from './log.js'
import { replyMessage, type PeerTransport } from './peer-transport.js'
import type { KeyDatabase } from './key-database.js'
import { fromReplica, toReplica } from './replica-state.js'
import { isPeerStatus, type HsmRequest, type JoinRequest, type MembersRequest, type PeerStatus } from './rpc-types.js'
import { Serial } from './serial.js'

/** How long a member has to answer a status probe before it counts as down. */
export const PEER_STATUS_TIMEOUT_MS = 500
/** Time allowed for join, member push and HSM RPCs. */
export const PEER_WRITE_TIMEOUT_MS = 10_000

export interface ClusterDeps {
  store: ClusterStore
  info: ClusterInfo
  transport: PeerTransport
  log: EmulatorLog
  /** This node's status (for itself and for /v1/rpc/status). */
  localStatus: () => Promise<PeerStatus>
  /** Runs an HSM RPC on this node. */
  localHsm: (req: HsmRequest) => Promise<void>
  /** This node's `host:port`. */
  host: string
  /** The key database (join installs the cluster's copy into it). */
  db: KeyDatabase
  /** Seals key material in replicas (replica-state.ts). */
  replicaKey: Buffer
}

/** Every member's status, or undefined for members that did not answer in time. */
export type MemberStatuses = Map<number, PeerStatus | undefined>

function toNodes (nodes: Record<string, string>): Record<number, string> {
  return Object.fromEntries(Object.entries(nodes).map(([k, v]) => [Number(k), v]))
}

export class ClusterManager {
  #info: ClusterInfo
  readonly #deps: ClusterDeps
  readonly #serial = new Serial()

  constructor (deps: ClusterDeps) {
    this.#deps = deps
    this.#info = structuredClone(deps.info)
  }

  /** A copy of the current membership. */
  get info (): ClusterInfo {
    return structuredClone(this.#info)
  }

  /** The leader: the lowest member id (writes need every member, so it is up whenever a write can succeed). */
  get leaderId (): number {
    return Math.min(...memberIds(this.#info))
  }

  /** The lock every cluster-wide change (membership, HSMs, key database writes) runs under on the leader. */
  async exclusive<T> (task: () => Promise<T>): Promise<T> {
    return await this.#serial.run(task)
  }

  /** Asks every member (this node included) for its status; silent members map to undefined. */
  async memberStatuses (): Promise<MemberStatuses> {
    const info = this.#info
    const entries = await Promise.all(memberIds(info).map(async (id): Promise<[number, PeerStatus | undefined]> => {
      if (id === info.nodeId) return [id, await this.#deps.localStatus()]
      const host = info.nodes[id] ?? ''
      try {
        const reply = await this.#deps.transport.call(host, 'GET', '/v1/rpc/status', undefined, PEER_STATUS_TIMEOUT_MS)
        const s = reply.body
        // A node that answers for another cluster (wiped and restarted) is not this member.
        if (reply.status !== 200 || !isPeerStatus(s) || s.clusterId !== info.clusterId || s.id !== id) return [id, undefined]
        return [id, s]
      } catch {
        return [id, undefined]
      }
    }))
    return new Map(entries)
  }

  /** True when every member answers and is ready (minkms's N-of-N write quorum). */
  async allMembersUp (): Promise<boolean> {
    const statuses = await this.memberStatuses()
    return [...statuses.values()].every((s) => s?.ready === true)
  }

  /** `id (host)` of every member that did not answer or is not ready; empty when the write quorum holds. */
  downMembers (statuses: MemberStatuses): string[] {
    return [...statuses].filter(([, s]) => s?.ready !== true).map(([id]) => `${id} (${this.#info.nodes[id] ?? ''})`)
  }

  /** CLUSTER:ADDNODE: makes the fresh node at `rawHost` a member and tells every member. */
  async addNode (rawHost: string): Promise<void> {
    const host = normaliseServer(rawHost)
    if (host === undefined) throw badRequest(`invalid node address '${rawHost}': expected HOST:PORT`)
    await this.#serial.run(async () => {
      const info = this.#info
      if (Object.values(info.nodes).includes(host)) throw conflict(`node '${host}' is already a member of the cluster`)
      const down = this.downMembers(await this.memberStatuses())
      if (down.length > 0) throw unavailable(`cannot add node '${host}': cluster members are down: ${down.join(', ')}`)
      const newId = Math.max(...memberIds(info)) + 1
      const nodes: Record<string, string> = { ...info.nodes, [newId]: host }
      const db = this.#deps.db
      const join: JoinRequest = { clusterId: info.clusterId, nodeId: newId, nodes, revision: db.revision, state: toReplica(db, this.#deps.replicaKey) }
      let reply
      try {
        reply = await this.#deps.transport.call(host, 'POST', '/v1/rpc/join', join, PEER_WRITE_TIMEOUT_MS)
      } catch (err) {
        throw badGateway(`cannot add node '${host}': ${describeError(err)}`)
      }
      if (reply.status !== 200) {
        const hint = reply.status === 403 ? ' (the node must run with the cluster\'s HSM key)' : ''
        throw new KmsHttpError(reply.status, `cannot add node '${host}': ${replyMessage(reply)}${hint}`)
      }
      this.#info = { ...info, nodes: toNodes(nodes) }
      await this.#deps.store.save(this.#info)
      this.#deps.log.info(`Added node ${newId} (${host}) to cluster ${info.clusterId}`)
      const push: MembersRequest = { clusterId: info.clusterId, nodes }
      await Promise.all(memberIds(info).filter((id) => id !== info.nodeId).map(async (id) => {
        const peer = info.nodes[id] ?? ''
        try {
          const r = await this.#deps.transport.call(peer, 'POST', '/v1/rpc/members', push, PEER_WRITE_TIMEOUT_MS)
          if (r.status !== 200) this.#deps.log.warn(`node ${id} (${peer}) refused the new member list: ${replyMessage(r)}`)
        } catch (err) {
          this.#deps.log.warn(`cannot send the new member list to node ${id} (${peer}): ${describeError(err)}`)
        }
      }))
    })
  }

  /** /v1/rpc/join on the fresh node. */
  async acceptJoin (req: JoinRequest): Promise<void> {
    await this.#serial.run(async () => {
      const info = this.#info
      if (req.clusterId === info.clusterId) throw conflict(`node is already a member of cluster ${info.clusterId}`)
      if (Object.keys(info.nodes).length > 1) throw conflict(`node is already part of a multi-node cluster (${info.clusterId})`)
      const asked = req.nodes[String(req.nodeId)]
      if (asked !== this.#deps.host) {
        throw badRequest(`server not part of cluster: this node's host is '${this.#deps.host}', not '${asked ?? ''}'`)
      }
      // A member is a full replica: the cluster's key database replaces this node's own.
      const { db, replicaKey, log } = this.#deps
      let state
      try {
        state = fromReplica(db, replicaKey, req.state)
      } catch (err) {
        throw badRequest(`cannot take the cluster's key database: ${describeError(err)}`)
      }
      if (db.enclaveNames().length > 0) log.warn(`Joining cluster ${req.clusterId}: this node's own key database is replaced by the cluster's`)
      await db.install(state, req.revision)
      this.#info = { clusterId: req.clusterId, nodeId: req.nodeId, nodes: toNodes(req.nodes) }
      await this.#deps.store.save(this.#info)
      log.info(`Joined cluster ${req.clusterId} as node ${req.nodeId} (key database revision ${req.revision})`)
    })
  }

  /** /v1/rpc/members on an existing member. */
  async acceptMembers (req: MembersRequest): Promise<void> {
    await this.#serial.run(async () => {
      const info = this.#info
      if (req.clusterId !== info.clusterId) throw conflict(`node is a member of cluster ${info.clusterId}, not ${req.clusterId}`)
      if (req.nodes[String(info.nodeId)] !== info.nodes[info.nodeId]) throw conflict('the member list does not contain this node')
      this.#info = { ...info, nodes: toNodes(req.nodes) }
      await this.#deps.store.save(this.#info)
      this.#deps.log.info(`Cluster members updated: ${memberIds(this.#info).map((id) => `${id}=${this.#info.nodes[id] ?? ''}`).join(', ')}`)
    })
  }

  /**
   * CLUSTER:ADDHSM / REMOVEHSM: checks the request on every member first, then applies it on
   * every member, so that a refusal anywhere changes nothing. Needs every member up.
   */
  async hsmCommand (op: 'add' | 'remove', name: string, overwrite: boolean): Promise<void> {
    await this.#serial.run(async () => {
      const info = this.#info
      const ids = memberIds(info)
      const runOn = async (id: number, dryRun: boolean): Promise<void> => {
        const req: HsmRequest = { op, name, overwrite, dryRun }
        if (id === info.nodeId) { await this.#deps.localHsm(req); return }
        const host = info.nodes[id] ?? ''
        let reply
        try {
          reply = await this.#deps.transport.call(host, 'POST', '/v1/rpc/hsm', req, PEER_WRITE_TIMEOUT_MS)
        } catch (err) {
          throw unavailable(`node ${id} (${host}) is unreachable: ${describeError(err)}`)
        }
        if (reply.status !== 200) throw new KmsHttpError(reply.status, `node ${id} (${host}): ${replyMessage(reply)}`)
      }
      for (const id of ids) await runOn(id, true)
      for (const id of ids) await runOn(id, false)
    })
  }
}
