// The HsmMigrationStore on SQLite: the tables of migration 2 in the coordinator's one file,
// `<stateDir>/keyroll.db`, through a connection of its own (WAL lets it sit beside the
// RolloutStore's). Writes that read first (the next event index, the active-migration check) run
// in IMMEDIATE transactions, and the partial unique index keeps one active migration per cluster
// even against a second process.
import type { Database } from 'better-sqlite3'
import { join } from 'node:path'
import { TERMINAL_HSM_MIGRATION_STATES, type HsmMigration, type HsmMigrationEvent } from '../../shared/schemas/hsm-migration.js'
import type { HsmMigrationStore, HsmMigrationWork, NewHsmMigrationEvent, StoredHsmMigration } from './hsm-migration-store.js'
import { isTerminalMigration, migrationConflictError, unknownMigration } from './hsm-migration-rules.js'
import { openStoreDb, STORE_FILE, type OpenStoreDbOptions } from './sqlite-db.js'
import { closedError, limitOf, uniqueOrConflict } from './store-rules.js'

// The enum's fixed words, not input: safe to write into the statement.
const ACTIVE = `state NOT IN (${TERMINAL_HSM_MIGRATION_STATES.map((s) => `'${s}'`).join(', ')})`

interface Row { view: string, work: string, sealed_secrets: string }

/** An HsmMigrationStore on one SQLite file. */
export class SqliteHsmMigrationStore implements HsmMigrationStore {
  readonly #db: Database
  readonly #s: ReturnType<typeof statements>
  #closed = false

  private constructor (db: Database) {
    this.#db = db
    this.#s = statements(db)
  }

  /** Opens (creating and migrating) the store file at `path`. */
  static open (path: string, opts: Omit<OpenStoreDbOptions, 'readonly'> = {}): SqliteHsmMigrationStore {
    return new SqliteHsmMigrationStore(openStoreDb(path, opts))
  }

  /** Opens `<stateDir>/keyroll.db`. */
  static inStateDir (stateDir: string): SqliteHsmMigrationStore {
    return SqliteHsmMigrationStore.open(join(stateDir, STORE_FILE))
  }

  async createMigration (m: StoredHsmMigration): Promise<void> {
    this.#open()
    const { migration } = m
    this.#db.transaction(() => {
      if (this.#s.state.get(migration.id) !== undefined) throw new Error(`HSM migration ${migration.id} exists`)
      if (!isTerminalMigration(migration.state)) {
        const active = this.#s.activeOn.get(migration.cluster, '') as { id: string, state: string } | undefined
        if (active !== undefined) throw migrationConflictError(migration.cluster, active)
      }
      uniqueOrConflict(() => this.#s.insert.run(migration.id, migration.cluster, migration.state, migration.createdAt, JSON.stringify(migration), JSON.stringify(m.work), m.sealedSecrets), () => migrationConflictError(migration.cluster))
    }).immediate()
  }

  async saveMigration (migration: HsmMigration, work: HsmMigrationWork, sealedSecrets?: string): Promise<void> {
    this.#open()
    this.#db.transaction(() => {
      const row = this.#s.state.get(migration.id) as { cluster: string } | undefined
      if (row === undefined) throw unknownMigration(migration.id)
      if (row.cluster !== migration.cluster) throw new Error(`HSM migration ${migration.id} cannot move from cluster ${row.cluster} to ${migration.cluster}`)
      uniqueOrConflict(() => {
        if (sealedSecrets === undefined) this.#s.update.run(migration.state, JSON.stringify(migration), JSON.stringify(work), migration.id)
        else this.#s.updateSealed.run(migration.state, JSON.stringify(migration), JSON.stringify(work), sealedSecrets, migration.id)
      }, () => migrationConflictError(migration.cluster))
    }).immediate()
  }

  async getMigration (id: string): Promise<StoredHsmMigration | undefined> {
    this.#open()
    const row = this.#s.get.get(id) as Row | undefined
    return row === undefined ? undefined : stored(row)
  }

  async listMigrations (opts: { cluster?: string, limit?: number } = {}): Promise<HsmMigration[]> {
    this.#open()
    const rows = (opts.cluster === undefined
      ? this.#s.listAll.all(limitOf(opts.limit))
      : this.#s.listCluster.all(opts.cluster, limitOf(opts.limit))) as Array<{ view: string }>
    return rows.map((r) => JSON.parse(r.view) as HsmMigration)
  }

  async activeMigrations (): Promise<StoredHsmMigration[]> {
    this.#open()
    return (this.#s.active.all() as Row[]).map(stored)
  }

  async appendEvent (migrationId: string, e: NewHsmMigrationEvent): Promise<HsmMigrationEvent> {
    this.#open()
    return this.#db.transaction(() => {
      if (this.#s.state.get(migrationId) === undefined) throw unknownMigration(migrationId)
      const { next } = this.#s.nextEvent.get(migrationId) as { next: number }
      const body = JSON.parse(JSON.stringify({ ...e, index: undefined })) as NewHsmMigrationEvent
      this.#s.insertEvent.run(migrationId, next, JSON.stringify(body))
      return { ...body, index: next }
    }).immediate()
  }

  async events (migrationId: string, opts: { from?: number, limit?: number } = {}): Promise<HsmMigrationEvent[]> {
    this.#open()
    const rows = this.#s.events.all(migrationId, Math.max(0, opts.from ?? 0), limitOf(opts.limit)) as Array<{ idx: number, event: string }>
    return rows.map((r) => ({ ...(JSON.parse(r.event) as NewHsmMigrationEvent), index: r.idx }))
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
    state: db.prepare('SELECT cluster, state FROM hsm_migrations WHERE id = ?'),
    activeOn: db.prepare(`SELECT id, state FROM hsm_migrations WHERE cluster = ? AND id != ? AND ${ACTIVE} LIMIT 1`),
    insert: db.prepare('INSERT INTO hsm_migrations (id, cluster, state, created_at, view, work, sealed_secrets) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    update: db.prepare('UPDATE hsm_migrations SET state = ?, view = ?, work = ? WHERE id = ?'),
    updateSealed: db.prepare('UPDATE hsm_migrations SET state = ?, view = ?, work = ?, sealed_secrets = ? WHERE id = ?'),
    get: db.prepare('SELECT view, work, sealed_secrets FROM hsm_migrations WHERE id = ?'),
    listAll: db.prepare('SELECT view FROM hsm_migrations ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listCluster: db.prepare('SELECT view FROM hsm_migrations WHERE cluster = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    active: db.prepare(`SELECT view, work, sealed_secrets FROM hsm_migrations WHERE ${ACTIVE} ORDER BY created_at, rowid`),
    nextEvent: db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM hsm_migration_events WHERE migration_id = ?'),
    insertEvent: db.prepare('INSERT INTO hsm_migration_events (migration_id, idx, event) VALUES (?, ?, ?)'),
    events: db.prepare('SELECT idx, event FROM hsm_migration_events WHERE migration_id = ? AND idx >= ? ORDER BY idx LIMIT ?')
  }
}

function stored (r: Row): StoredHsmMigration {
  return { migration: JSON.parse(r.view) as HsmMigration, work: JSON.parse(r.work) as HsmMigrationWork, sealedSecrets: r.sealed_secrets }
}
