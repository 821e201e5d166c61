// What the API routes (and nothing else) drive: plans, rollouts and their events, and the boot
// slots. The real implementation is the rollout engine (engine/); routes are tested against
// a fake (test/helpers/fake-rollout-control.ts). Every method that changes something takes the
// actor (token name) for the audit log.
import type { ChangeSpec } from '../../shared/change/schema.js'
import type { ClusterPlan, Rollout, RolloutEvent, Strategy } from '../../shared/schemas/rollout.js'

/** What POST /v1/rollouts carries once parsed. */
export interface StartRequest {
  cluster: string
  /** The change in wire form (validated at the edge with shared/change/validate-change.ts). */
  change: ChangeSpec
  /** The hash of a plan computed for this cluster and change (POST /v1/plans). */
  planHash: string
  strategy?: Strategy
  /**
   * An HSM (as minkms names it, e.g. `hsm:minio:minkms`) every node must show, after its step,
   * configured AND holding a sealed copy of its root key in its own cluster status; a node that
   * does not within the healthy deadline fails its gate and is rolled back. Stored with the rollout.
   */
  expectHsm?: string
  actor: string
}

/** Rollouts: plan, start, steer, read, follow. */
export interface RolloutControl {
  /** Asks every node's agent for its plan; rejects with CRD_NOT_FOUND for an unknown cluster. */
  plan (cluster: string, change: ChangeSpec, actor: string): Promise<ClusterPlan>
  /**
   * Re-plans, compares the hash (CRD_PLAN_HASH_MISMATCH), checks the cluster gate before the first
   * node (every node healthy, else CRD_CLUSTER_UNHEALTHY naming the node), stores the rollout
   * (CRD_ROLLOUT_CONFLICT when the cluster has one) and starts it. Resolves once stored.
   */
  start (req: StartRequest): Promise<Rollout>
  pause (id: string, actor: string): Promise<Rollout>
  resume (id: string, actor: string): Promise<Rollout>
  /** Stops after the steps in flight; nodes not reached stay untouched. */
  abort (id: string, actor: string): Promise<Rollout>
  /** A canary rollout waiting after its first node: go on with the others. */
  promote (id: string, actor: string): Promise<Rollout>
  /** Rolls every node the rollout changed back to its previous revision, one at a time. */
  rollback (id: string, actor: string): Promise<Rollout>
  get (id: string): Promise<Rollout | undefined>
  list (opts?: { cluster?: string, limit?: number }): Promise<Rollout[]>
  /** Stored events from `from` (default 0), oldest first. */
  events (id: string, opts?: { from?: number, limit?: number }): Promise<RolloutEvent[]>
  /**
   * Calls `onEvent` with every event of `id` appended from now on, until the returned function is
   * called. A stream replays `events(id, { from })` first, then subscribes (deduplicating by index).
   */
  subscribe (id: string, onEvent: (e: RolloutEvent) => void): () => void
}

/** A boot-convergence slot request (docs/agent-coordinator.md), the node taken from its client certificate. */
export interface SlotRequest { node: string, unit: string, revision: number }

/** Answer to a slot request. */
export type SlotAnswer = { granted: true, slotId: string, ttlMs: number } | { granted: false, retryAfterMs: number, message: string }

/** Boot slots: at most one converging node per cluster, never while a rollout step runs there. */
export interface SlotControl {
  request (req: SlotRequest): Promise<SlotAnswer>
  /**
   * Resolves false for an unknown slot id, or one held by another node than `body.node` (the node
   * of the caller's client certificate, when the API knows it).
   */
  release (slotId: string, body: { revision: number, result: string, message?: string, node?: string }): Promise<boolean>
}
