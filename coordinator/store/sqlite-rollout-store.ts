// The RolloutStore on SQLite (better-sqlite3), the coordinator's embedded default: one file,
// `<stateDir>/keyroll.db` (store/sqlite-db.ts opens it: WAL, synchronous=FULL, 0600, migrated).
// Every write that reads before it writes (the next event index, the next audit entry, the
// active-rollout check) runs in an IMMEDIATE transaction, which takes the write lock first, so
// two writers (two processes on one file, by mistake) cannot both read the same "next" and the
// chain and indexes stay gapless. The partial unique index of migration 1 enforces one active
// rollout per cluster even if a path here forgot to check.
import type { Database } from 'better-sqlite3'
import { join } from 'node:path'
import { TERMINAL_ROLLOUT_STATES, type Rollout, type RolloutEvent } from '../../shared/schemas/rollout.js'
import { chainAuditEntry, type NewAuditEntry } from '../audit/audit-chain.js'
import type { AuditEntry, NewRolloutEvent, RolloutStore, Slot, StoredRollout, StoredToken } from './rollout-store.js'
import { openStoreDb, STORE_FILE, type OpenStoreDbOptions } from './sqlite-db.js'
import { closedError, conflictError, isTerminal, limitOf, uniqueOrConflict, unknownRollout } from './store-rules.js'

// The enum's fixed words, not input: safe to write into the statement.
const ACTIVE = `state NOT IN (${TERMINAL_ROLLOUT_STATES.map(s => `'${s}'`).join(', ')})`

interface RolloutRow { view: string, sealed_change: string }
interface AuditRow { seq: number, at: number, actor: string, action: string, target: string, plan_hash: string | null, detail: string, prev_hash: string, hash: string }
interface TokenRow { name: string, role: 'viewer' | 'operator', hash: string, created_at: number, revoked_at: number | null }
interface SlotRow { id: string, cluster: string, node: string, revision: number, granted_at: number, expires_at: number, released_at: number | null, result: string | null }

/** True for SQLite's "a UNIQUE or PRIMARY KEY constraint failed". */
function isUniqueViolation (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

/** A RolloutStore on one SQLite file. */
export class SqliteRolloutStore implements RolloutStore {
  readonly #db: Database
  readonly #s: ReturnType<typeof statements>
  #closed = false

  private constructor (db: Database) {
    this.#db = db
    this.#s = statements(db)
  }

  /** Opens (creating and migrating) the store file at `path`. */
  static open (path: string, opts: Omit<OpenStoreDbOptions, 'readonly'> = {}): SqliteRolloutStore {
    return new SqliteRolloutStore(openStoreDb(path, opts))
  }

  /** Opens `<stateDir>/keyroll.db`. */
  static inStateDir (stateDir: string): SqliteRolloutStore {
    return SqliteRolloutStore.open(join(stateDir, STORE_FILE))
  }

  /** The file's path. */
  get path (): string { return this.#db.name }

  async createRollout (r: StoredRollout): Promise<void> {
    this.#open()
    const { rollout } = r
    this.#db.transaction(() => {
      if (this.#s.rolloutState.get(rollout.id) !== undefined) throw new Error(`rollout ${rollout.id} exists`)
      if (!isTerminal(rollout.state)) {
        const active = this.#s.activeOn.get(rollout.cluster, '') as { id: string, state: string } | undefined
        if (active !== undefined) throw conflictError(rollout.cluster, active)
      }
      uniqueOrConflict(() => this.#s.insertRollout.run(rollout.id, rollout.cluster, rollout.state, rollout.createdAt, JSON.stringify(rollout), r.sealedChange), () => conflictError(rollout.cluster))
    }).immediate()
  }

  async saveRollout (rollout: Rollout): Promise<void> {
    this.#open()
    this.#db.transaction(() => {
      const row = this.#s.rolloutState.get(rollout.id) as { cluster: string } | undefined
      if (row === undefined) throw unknownRollout(rollout.id)
      if (row.cluster !== rollout.cluster) throw new Error(`rollout ${rollout.id} cannot move from cluster ${row.cluster} to ${rollout.cluster}`)
      if (!isTerminal(rollout.state)) {
        const active = this.#s.activeOn.get(rollout.cluster, rollout.id) as { id: string, state: string } | undefined
        if (active !== undefined) throw conflictError(rollout.cluster, active)
      }
      uniqueOrConflict(() => this.#s.updateRollout.run(rollout.state, JSON.stringify(rollout), rollout.id), () => conflictError(rollout.cluster))
    }).immediate()
  }

  async getRollout (id: string): Promise<StoredRollout | undefined> {
    this.#open()
    const row = this.#s.getRollout.get(id) as RolloutRow | undefined
    return row === undefined ? undefined : stored(row)
  }

  async listRollouts (opts: { cluster?: string, limit?: number } = {}): Promise<Rollout[]> {
    this.#open()
    const rows = (opts.cluster === undefined
      ? this.#s.listAll.all(limitOf(opts.limit))
      : this.#s.listCluster.all(opts.cluster, limitOf(opts.limit))) as Array<{ view: string }>
    return rows.map(r => JSON.parse(r.view) as Rollout)
  }

  async activeRollouts (): Promise<StoredRollout[]> {
    this.#open()
    return (this.#s.active.all() as RolloutRow[]).map(stored)
  }

  async appendEvent (rolloutId: string, e: NewRolloutEvent): Promise<RolloutEvent> {
    this.#open()
    return this.#db.transaction(() => {
      if (this.#s.rolloutState.get(rolloutId) === undefined) throw unknownRollout(rolloutId)
      const { next } = this.#s.nextEvent.get(rolloutId) as { next: number }
      const body = JSON.parse(JSON.stringify({ ...e, index: undefined })) as NewRolloutEvent
      this.#s.insertEvent.run(rolloutId, next, JSON.stringify(body))
      return { ...body, index: next }
    }).immediate()
  }

  async events (rolloutId: string, opts: { from?: number, limit?: number } = {}): Promise<RolloutEvent[]> {
    this.#open()
    const rows = this.#s.events.all(rolloutId, Math.max(0, opts.from ?? 0), limitOf(opts.limit)) as Array<{ idx: number, event: string }>
    return rows.map(r => ({ ...(JSON.parse(r.event) as NewRolloutEvent), index: r.idx }))
  }

  async appendAudit (e: NewAuditEntry): Promise<AuditEntry> {
    this.#open()
    return this.#db.transaction(() => {
      const last = this.#s.lastAudit.get() as { seq: number, hash: string } | undefined
      const entry = chainAuditEntry(last, e)
      this.#s.insertAudit.run(entry.seq, entry.at, entry.actor, entry.action, entry.target, entry.planHash ?? null, JSON.stringify(entry.detail), entry.prevHash, entry.hash)
      return entry
    }).immediate()
  }

  async audit (opts: { from?: number, limit?: number } = {}): Promise<AuditEntry[]> {
    this.#open()
    return (this.#s.audit.all(Math.max(1, opts.from ?? 1), limitOf(opts.limit)) as AuditRow[]).map(auditEntry)
  }

  async putToken (t: StoredToken): Promise<void> {
    this.#open()
    try {
      this.#s.putToken.run(t.name, t.role, t.hash, t.createdAt, t.revokedAt ?? null)
    } catch (err) {
      if (isUniqueViolation(err)) throw new Error(`token ${t.name} has the same hash as another token`, { cause: err })
      throw err
    }
  }

  async tokenByHash (hash: string): Promise<StoredToken | undefined> {
    this.#open()
    const row = this.#s.tokenByHash.get(hash) as TokenRow | undefined
    return row === undefined ? undefined : token(row)
  }

  async listTokens (): Promise<StoredToken[]> {
    this.#open()
    return (this.#s.tokens.all() as TokenRow[]).map(token)
  }

  async revokeToken (name: string, at: number): Promise<boolean> {
    this.#open()
    return this.#s.revokeToken.run(at, name).changes === 1
  }

  async openSlots (cluster: string, now: number): Promise<Slot[]> {
    this.#open()
    return (this.#s.openSlots.all(cluster, now) as SlotRow[]).map(slot)
  }

  async putSlot (s: Slot): Promise<void> {
    this.#open()
    this.#s.putSlot.run(s.id, s.cluster, s.node, s.revision, s.grantedAt, s.expiresAt, s.releasedAt ?? null, s.result ?? null)
  }

  async releaseSlot (id: string, at: number, result: string): Promise<Slot | undefined> {
    this.#open()
    return this.#db.transaction(() => {
      this.#s.releaseSlot.run(at, result, id)
      const row = this.#s.slot.get(id) as SlotRow | undefined
      return row === undefined ? undefined : slot(row)
    }).immediate()
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#db.close()
  }

  #open (): void {
    if (this.#closed) throw closedError()
  }
}

function statements (db: Database) {
  return {
    rolloutState: db.prepare('SELECT cluster, state FROM rollouts WHERE id = ?'),
    activeOn: db.prepare(`SELECT id, state FROM rollouts WHERE cluster = ? AND id != ? AND ${ACTIVE} LIMIT 1`),
    insertRollout: db.prepare('INSERT INTO rollouts (id, cluster, state, created_at, view, sealed_change) VALUES (?, ?, ?, ?, ?, ?)'),
    updateRollout: db.prepare('UPDATE rollouts SET state = ?, view = ? WHERE id = ?'),
    getRollout: db.prepare('SELECT view, sealed_change FROM rollouts WHERE id = ?'),
    listAll: db.prepare('SELECT view FROM rollouts ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listCluster: db.prepare('SELECT view FROM rollouts WHERE cluster = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    active: db.prepare(`SELECT view, sealed_change FROM rollouts WHERE ${ACTIVE} ORDER BY created_at, rowid`),
    nextEvent: db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM events WHERE rollout_id = ?'),
    insertEvent: db.prepare('INSERT INTO events (rollout_id, idx, event) VALUES (?, ?, ?)'),
    events: db.prepare('SELECT idx, event FROM events WHERE rollout_id = ? AND idx >= ? ORDER BY idx LIMIT ?'),
    lastAudit: db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1'),
    insertAudit: db.prepare('INSERT INTO audit (seq, at, actor, action, target, plan_hash, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    audit: db.prepare('SELECT * FROM audit WHERE seq >= ? ORDER BY seq LIMIT ?'),
    putToken: db.prepare(`INSERT INTO tokens (name, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET role = excluded.role, hash = excluded.hash, created_at = excluded.created_at, revoked_at = excluded.revoked_at`),
    tokenByHash: db.prepare('SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL'),
    tokens: db.prepare('SELECT * FROM tokens ORDER BY name'),
    revokeToken: db.prepare('UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL'),
    openSlots: db.prepare('SELECT * FROM slots WHERE cluster = ? AND released_at IS NULL AND expires_at > ? ORDER BY granted_at, id'),
    putSlot: db.prepare(`INSERT INTO slots (id, cluster, node, revision, granted_at, expires_at, released_at, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET cluster = excluded.cluster, node = excluded.node, revision = excluded.revision, granted_at = excluded.granted_at,
        expires_at = excluded.expires_at, released_at = excluded.released_at, result = excluded.result`),
    releaseSlot: db.prepare('UPDATE slots SET released_at = ?, result = ? WHERE id = ? AND released_at IS NULL'),
    slot: db.prepare('SELECT * FROM slots WHERE id = ?')
  }
}

function stored (r: RolloutRow): StoredRollout {
  return { rollout: JSON.parse(r.view) as Rollout, sealedChange: r.sealed_change }
}

/** An audit row as the entry that was hashed (no planHash member when it had none). */
export function auditEntry (r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    ...(r.plan_hash === null ? {} : { planHash: r.plan_hash }),
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash
  }
}

function token (r: TokenRow): StoredToken {
  return { name: r.name, role: r.role, hash: r.hash, createdAt: r.created_at, ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }) }
}

function slot (r: SlotRow): Slot {
  return {
    id: r.id,
    cluster: r.cluster,
    node: r.node,
    revision: r.revision,
    grantedAt: r.granted_at,
    expiresAt: r.expires_at,
    ...(r.released_at === null ? {} : { releasedAt: r.released_at }),
    ...(r.result === null ? {} : { result: r.result })
  }
}
