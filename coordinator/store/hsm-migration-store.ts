// Where HSM migrations live: a sibling of the RolloutStore, in the same SQLite file
// (store/sqlite-hsm-migration-store.ts; migration 2 adds its tables) or in memory for unit tests
// (store/memory-hsm-migration-store.ts). A migration's phases run as rollouts, which stay in the
// RolloutStore; this store keeps what ties them together.
//
// Invariants every implementation keeps:
// - Nothing secret in clear: the operator's admin key and the generated API key are stored only
//   inside `sealedSecrets`, sealed by the caller with the coordinator's key; views, work records
//   and events never hold them.
// - At most one active (non-terminal) migration per cluster: createMigration refuses a second one
//   with CRD_ROLLOUT_CONFLICT, atomically.
// - Event indexes of a migration start at 0 and have no gaps; appendEvent assigns them.
import type { HsmMigration, HsmMigrationEvent } from '../../shared/schemas/hsm-migration.js'

/** minkms runs seen per node during a phase (coordinator/hsm/phase-view.ts). */
export interface PhaseRuns {
  before: Record<string, string>
  runs: Record<string, string[]>
}

/** What the orchestrator remembers beyond the view, to resume exactly where it was (no secrets). */
export interface HsmMigrationWork {
  /** Revision of phase A's change, chosen once (every node's applied revision + 1) and reused by every run of the phase. */
  revisionA?: number
  /** Revision of phase B's change, likewise. */
  revisionB?: number
  /** Dotted paths of the other HSM blocks found on the nodes (`hsm.<kind>`); replaceHsm removes them in phase B. */
  otherHsmBlocks?: string[]
  /** The phase was asked to pause before its next step (no rollout running to pause). */
  pauseRequested?: boolean
  /** An abort was asked: the migration ends `aborted` once the rollout in flight ends. */
  abortRequested?: boolean
  /** minkms runs seen per node in each phase (restart counts survive a coordinator restart). */
  runs?: { A?: PhaseRuns, B?: PhaseRuns }
  /** The request's strategy (durations as written), for each phase's rollout. */
  strategy?: { healthyDeadline?: string, progressDeadline?: string, minHealthyTime?: string }
  /** The all-at-once phase B's step, while it runs. */
  allAtOnce?: AllAtOnceWork
  /** Rollouts of earlier runs of a phase (a failed phase resumed), oldest first. */
  earlierRollouts?: Array<{ phase: 'A' | 'B', id: string }>
}

/**
 * The all-at-once phase B in flight (coordinator/hsm/all-at-once-phase-b.ts): each step stored
 * before its effect, so a coordinator restarted in it knows what the nodes may have done.
 */
export interface AllAtOnceWork {
  step: 'staging' | 'committing' | 'rolling-back'
  /** Each node's journal cursor and minkms InvocationID right before the commits. */
  baselines?: Record<string, { cursor?: string, invocationBefore?: string }>
  /** Wall ms the first commit was sent (the write outage starts). */
  firstCommitAt?: number
  /** Why every node is being rolled back (rolling-back). */
  cause?: string
}

/** A migration as stored. */
export interface StoredHsmMigration {
  readonly migration: HsmMigration
  readonly work: HsmMigrationWork
  /** `{ adminKey, apiKey }` as JSON, sealed (adminKey dropped once provisioning is done). */
  readonly sealedSecrets: string
}

/** A new event; the store assigns `index`. */
export type NewHsmMigrationEvent = Omit<HsmMigrationEvent, 'index'>

/** The HSM migrations' store. */
export interface HsmMigrationStore {
  /** Stores a new migration; rejects with CRD_ROLLOUT_CONFLICT when its cluster has an active one. */
  createMigration (m: StoredHsmMigration): Promise<void>
  /** Replaces a migration's view and work record (and its sealed secrets, when given). Rejects when the id is unknown. */
  saveMigration (migration: HsmMigration, work: HsmMigrationWork, sealedSecrets?: string): Promise<void>
  getMigration (id: string): Promise<StoredHsmMigration | undefined>
  /** Newest first. */
  listMigrations (opts?: { cluster?: string, limit?: number }): Promise<HsmMigration[]>
  /** Every migration not in a terminal state, oldest first (resume at start). */
  activeMigrations (): Promise<StoredHsmMigration[]>
  /** Appends an event and returns it with its index. */
  appendEvent (migrationId: string, e: NewHsmMigrationEvent): Promise<HsmMigrationEvent>
  /** Events with index >= from, oldest first, at most `limit` (default 1000). */
  events (migrationId: string, opts?: { from?: number, limit?: number }): Promise<HsmMigrationEvent[]>
  close (): Promise<void>
}
