// What request handlers see of a running node: its database, HSMs, cluster and identity facts.
import type { AccessView } from './authz.js'
import type { ClusterManager } from './cluster.js'
import type { HsmManager } from './hsm-manager.js'
import type { KeyDatabase } from './key-database.js'
import type { EmulatorLog } from './log.js'

export interface EmulatorNode extends AccessView {
  readonly log: EmulatorLog
  readonly db: KeyDatabase
  readonly hsms: HsmManager
  readonly cluster: ClusterManager
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
}
