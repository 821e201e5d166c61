// The coordinator's durable state, behind one port: rollouts with their steps and events, the
// audit log, API tokens and boot-convergence slots. The embedded default is SQLite
// (store/sqlite-rollout-store.ts, better-sqlite3, schema version + migrations); unit tests use
// store/memory-rollout-store.ts. A PostgreSQL store shared by several coordinators could be added
// behind the same port without touching the engine. Methods are async for that reason, though
// both implementations here answer synchronously.
//
// Invariants every implementation keeps:
// - Nothing secret in clear: a rollout's change (which may hold API keys) is stored only as the
//   `sealedChange` the caller hands in (AES-256-GCM with the coordinator's key, shared/secrets);
//   tokens only as hashes.
// - At most one active (non-terminal) rollout per cluster: createRollout refuses a second one
//   with CRD_ROLLOUT_CONFLICT, atomically (two concurrent creates cannot both win).
// - Event indexes of a rollout start at 0 and have no gaps; appendEvent assigns them.
// - The audit log is append-only and hash-chained (audit/audit-chain.ts).
import type { Rollout, RolloutEvent } from '../../shared/schemas/rollout.js'

/** A rollout as stored: the API view plus the sealed change the engine sends to agents. */
export interface StoredRollout {
  readonly rollout: Rollout
  /** The change's wire form (ChangeSpec JSON, secrets included), sealed. */
  readonly sealedChange: string
}

/** A new event; the store assigns `index`. */
export type NewRolloutEvent = Omit<RolloutEvent, 'index'>

/** One entry of the audit log. */
export interface AuditEntry {
  /** 1, 2, 3… without gaps. */
  readonly seq: number
  readonly at: number
  /** Token name (or `system` for the coordinator's own actions, `agent:<node>` for slots). */
  readonly actor: string
  /** e.g. rollout.create, rollout.pause, rollout.abort, rollout.rollback, rollout.finish, token.create */
  readonly action: string
  /** What it acted on: a rollout id, a cluster, a token name. */
  readonly target: string
  readonly planHash?: string
  /** Verdicts and other evidence, never a secret. */
  readonly detail: Record<string, unknown>
  /** sha256 hex of the previous entry (64 zeros for the first). */
  readonly prevHash: string
  /** sha256 hex over this entry's fields and prevHash (audit/audit-chain.ts). */
  readonly hash: string
}

/** An API token as stored: only the hash of its secret part. */
export interface StoredToken {
  readonly name: string
  readonly role: 'viewer' | 'operator'
  /** sha256 hex of the token's secret. */
  readonly hash: string
  readonly createdAt: number
  readonly revokedAt?: number
}

/** A boot-convergence slot (docs/agent-coordinator.md). */
export interface Slot {
  readonly id: string
  readonly cluster: string
  readonly node: string
  readonly revision: number
  readonly grantedAt: number
  readonly expiresAt: number
  readonly releasedAt?: number
  readonly result?: string
}

/** The coordinator's store. */
export interface RolloutStore {
  /** Stores a new rollout; rejects with CRD_ROLLOUT_CONFLICT when its cluster has an active one. */
  createRollout (r: StoredRollout): Promise<void>
  /** Replaces a rollout's view (the sealed change never changes). Rejects when the id is unknown. */
  saveRollout (rollout: Rollout): Promise<void>
  getRollout (id: string): Promise<StoredRollout | undefined>
  /** Newest first. */
  listRollouts (opts?: { cluster?: string, limit?: number }): Promise<Rollout[]>
  /** Every rollout not in a terminal state (resume after a crash). */
  activeRollouts (): Promise<StoredRollout[]>

  /** Appends an event and returns it with its index. */
  appendEvent (rolloutId: string, e: NewRolloutEvent): Promise<RolloutEvent>
  /** Events with index >= from, oldest first, at most `limit` (default 1000). */
  events (rolloutId: string, opts?: { from?: number, limit?: number }): Promise<RolloutEvent[]>

  /** Appends an audit entry (seq, prevHash and hash computed here) and returns it. */
  appendAudit (e: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>): Promise<AuditEntry>
  /** Audit entries with seq >= from, oldest first. */
  audit (opts?: { from?: number, limit?: number }): Promise<AuditEntry[]>

  putToken (t: StoredToken): Promise<void>
  /** The token whose secret hashes to `hash`, if not revoked. */
  tokenByHash (hash: string): Promise<StoredToken | undefined>
  listTokens (): Promise<StoredToken[]>
  revokeToken (name: string, at: number): Promise<boolean>

  /** Slots of a cluster not released and not expired at `now`. */
  openSlots (cluster: string, now: number): Promise<Slot[]>
  putSlot (s: Slot): Promise<void>
  releaseSlot (id: string, at: number, result: string): Promise<Slot | undefined>

  close (): Promise<void>
}
