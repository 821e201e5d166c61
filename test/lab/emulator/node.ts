// What request handlers see of a running node: its database, HSMs, cluster and identity facts.
import type { AccessView } from './authz.js'
import type { ClusterManager } from './cluster.js'
import type { HsmManager } from './hsm-manager.js'
import type { KeyDatabase } from './key-database.js'
import type { EmulatorLog } from './log.js'
import type { Replication } from './replication.js'

export interface EmulatorNode extends AccessView {
  readonly log: EmulatorLog
  readonly db: KeyDatabase
  readonly hsms: HsmManager
  readonly cluster: ClusterManager
  readonly replication: Replication
  /** The `refuse-peers` fault: /v1/rpc/* answers 503 and this node calls no peer. */
  readonly refusesPeers: boolean
  /** This node's `host:port` (what `--host` says, or the derived default). */
  readonly host: string
  /** The root identity (h1 of the root API key). */
  readonly rootIdentity: string
  /** Read-readiness right now. */
  isReady (): boolean
}

/** The caller of one KMS command, already authorised for it. */
export interface CommandContext {
  readonly node: EmulatorNode
  /** The caller's `h1:` identity. */
  readonly caller: string
  /** Enclave from the URL path ('' for cluster commands). */
  readonly enclave: string
  /** The database to run on: the node's for reads, a staged copy for a replicated write. */
  readonly db: KeyDatabase
}
