// The cluster gate's view of minkms itself (not of the agents): whether a node rejoined its
// cluster and serves clients again. Spoken with the shared minkms client (shared/minkms/) over
// mutual TLS with the coordinator's probe identity; the fake answers from a script.
import type { NodeRef } from './node-ref.js'

/** A cluster member as one node's cluster status shows it. */
export interface MemberView {
  /** The member's endpoint as minkms names it (host:port). */
  readonly endpoint: string
  readonly up: boolean
}

/** A node's HSMs as its own entry of the cluster status shows them (HSM names as minkms prints them, e.g. `hsm:minio:soft`). */
export interface HsmStatus {
  /** HSMs configured on the node now (ServerStatus ConfiguredHSMs). */
  readonly configured: string[]
  /** HSMs holding a sealed copy of the node's root encryption key on its disk (ServerStatus HSMs). */
  readonly sealed: string[]
}

/** minkms, as the gate asks it. Each call rejects with a CRD_MINKMS_* coded error when the node cannot be asked. */
export interface ClusterProbe {
  /** GET /v1/health/ready (with `write`: /v1/health/ready?write, 200 only when the cluster accepts writes). */
  ready (node: NodeRef, opts?: { write?: boolean, signal?: AbortSignal }): Promise<boolean>
  /** The cluster status as `via` sees it: every member and whether it is up. */
  members (via: NodeRef, opts?: { signal?: AbortSignal }): Promise<MemberView[]>
  /**
   * A real client request through `node` with the probe identity (an encrypt→decrypt round trip
   * with the probe key); resolves when the round trip matched.
   */
  clientRoundTrip (node: NodeRef, opts?: { signal?: AbortSignal }): Promise<void>
  /**
   * The node's HSMs, from the cluster status asked through the node itself (its own entry, found
   * by its endpoint): what the HSM migration's gate needs to know before the next node.
   */
  hsmStatus (node: NodeRef, opts?: { signal?: AbortSignal }): Promise<HsmStatus>
  /**
   * Creates, where missing, what clientRoundTrip needs on the cluster (the probe enclave,
   * identity and key). Idempotent; run once per cluster before its first rollout.
   */
  provision (cluster: string, via: NodeRef, opts?: { signal?: AbortSignal }): Promise<void>
}

/**
 * What the HSM migration's cleanup asks of minkms besides the gate's reads: a cluster-wide write
 * with the cluster's admin key. Both ClusterProbe implementations implement it too.
 */
export interface ClusterHsmAdmin {
  /**
   * CLUSTER:REMOVEHSM through `via`: every node drops its sealed copy of the root key for HSM
   * `name` (the HSM's configuration stays; that HSM can no longer unseal). Irreversible.
   */
  removeHsm (via: NodeRef, name: string, opts?: { signal?: AbortSignal }): Promise<void>
}
