// The store's schema, as ordered migrations. A migration is never edited once released: a change
// to the schema is a new migration with the next version. Each runs in its own transaction
// together with its row in schema_version, so a crash leaves the store at the version before or
// after it, never between. A store whose version is above the last one known here was written by
// a newer keyroll; it is refused rather than read with assumptions that may no longer hold.
import type { Database } from 'better-sqlite3'
import { CoordinatorError } from '../errors.js'

/** One schema step. */
export interface Migration {
  /** 1, 2, 3… in order, without gaps. */
  readonly version: number
  readonly name: string
  readonly sql: string
}

// Terminal rollout states as of migration 1 (shared/schemas/rollout.ts TERMINAL_ROLLOUT_STATES;
// a test holds the two equal). The partial unique index makes "one active rollout per cluster" a
// property of the file: no code path, and no second process, can store two.
const TERMINAL = "('succeeded', 'failed', 'aborted', 'reverted')"

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'rollouts, events, audit, tokens, slots',
    sql: `
      CREATE TABLE rollouts (
        id TEXT PRIMARY KEY,
        cluster TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at REAL NOT NULL,
        view TEXT NOT NULL,          -- the Rollout as the API shows it (JSON, secrets masked)
        sealed_change TEXT NOT NULL  -- the change's wire form, sealed with coordinator.key
      ) STRICT;
      CREATE INDEX rollouts_by_cluster ON rollouts (cluster, created_at);
      CREATE INDEX rollouts_by_state ON rollouts (state);
      CREATE UNIQUE INDEX rollouts_one_active_per_cluster ON rollouts (cluster) WHERE state NOT IN ${TERMINAL};

      CREATE TABLE events (
        rollout_id TEXT NOT NULL REFERENCES rollouts (id),
        idx INTEGER NOT NULL,
        event TEXT NOT NULL,         -- the RolloutEvent without its index (JSON)
        PRIMARY KEY (rollout_id, idx)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        plan_hash TEXT,
        detail TEXT NOT NULL,        -- JSON
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      ) STRICT;
      -- Append-only for keyroll itself; someone editing the file can drop these, which is what the
      -- hash chain is for.
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

      CREATE TABLE tokens (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator')),
        hash TEXT NOT NULL UNIQUE,   -- sha256 of the secret; the secret itself is never stored
        created_at REAL NOT NULL,
        revoked_at REAL
      ) STRICT;

      CREATE TABLE slots (
        id TEXT PRIMARY KEY,
        cluster TEXT NOT NULL,
        node TEXT NOT NULL,
        revision INTEGER NOT NULL,
        granted_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        released_at REAL,
        result TEXT
      ) STRICT;
      CREATE INDEX slots_open_by_cluster ON slots (cluster, expires_at) WHERE released_at IS NULL;
    `
  },
  {
    version: 2,
    name: 'hsm migrations and their events',
    // Terminal migration states as of migration 2 (shared/schemas/hsm-migration.ts
    // TERMINAL_HSM_MIGRATION_STATES): one active migration per cluster, a property of the file.
    sql: `
      CREATE TABLE hsm_migrations (
        id TEXT PRIMARY KEY,
        cluster TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at REAL NOT NULL,
        view TEXT NOT NULL,           -- the HsmMigration as the API shows it (JSON, no secret)
        work TEXT NOT NULL,           -- what resuming needs beyond the view (JSON, no secret)
        sealed_secrets TEXT NOT NULL  -- admin key and generated API key, sealed with coordinator.key
      ) STRICT;
      CREATE INDEX hsm_migrations_by_cluster ON hsm_migrations (cluster, created_at);
      CREATE UNIQUE INDEX hsm_migrations_one_active_per_cluster ON hsm_migrations (cluster) WHERE state NOT IN ('succeeded', 'failed', 'aborted');

      CREATE TABLE hsm_migration_events (
        migration_id TEXT NOT NULL REFERENCES hsm_migrations (id),
        idx INTEGER NOT NULL,
        event TEXT NOT NULL,          -- the HsmMigrationEvent without its index (JSON)
        PRIMARY KEY (migration_id, idx)
      ) STRICT, WITHOUT ROWID;
    `
  },
  {
    version: 3,
    name: 'cluster root keys',
    // The root API key the coordinator adopted for a cluster whose root key changed (the HSM
    // migration's phase B, when minkms derives it from the HSM): one row per cluster, the key
    // sealed with coordinator.key, handed to the operator once (handed_over_at).
    sql: `
      CREATE TABLE cluster_root_keys (
        cluster TEXT PRIMARY KEY,
        identity TEXT NOT NULL,       -- the key's h1: identity (not secret)
        sealed TEXT NOT NULL,         -- { cluster, identity, apiKey } sealed with coordinator.key
        adopted_at REAL NOT NULL,
        handed_over_at REAL           -- when the operator was given it (once); NULL until then
      ) STRICT;
    `
  }
]

/** The version this keyroll writes. */
export function latestVersion (migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.at(-1)?.version ?? 0
}

/** The store's schema version: 0 for a new, empty file. */
export function schemaVersion (db: Database): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get()
  if (table === undefined) {
    const other = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' LIMIT 1").get() as { name: string } | undefined
    if (other !== undefined) throw new CoordinatorError('CRD_STORE_UNREADABLE', `${db.name} is not a keyroll store: it has tables (${other.name}) but no schema_version`)
    return 0
  }
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }
  return row.v ?? 0
}

/** Refuses a store written by a newer keyroll. */
export function checkVersion (db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const v = schemaVersion(db)
  const latest = latestVersion(migrations)
  if (v > latest) {
    throw new CoordinatorError('CRD_STORE_VERSION', `${db.name} has schema version ${v}, but this keyroll knows versions up to ${latest}: it was written by a newer keyroll; run that version, or restore a backup taken before the upgrade`)
  }
  return v
}

/** Brings the store up to the last migration; returns the versions before and after. */
export function migrate (db: Database, migrations: readonly Migration[] = MIGRATIONS, now: number = Date.now()): { from: number, to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`)
  })
  const from = checkVersion(db, migrations)
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL) STRICT')
  const record = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)')
  for (const m of migrations) {
    if (m.version <= from) continue
    db.transaction(() => {
      // Read again under the write lock: another process may have migrated since.
      if (schemaVersion(db) >= m.version) return
      db.exec(m.sql)
      record.run(m.version, m.name, now)
    }).immediate()
  }
  return { from, to: latestVersion(migrations) }
}
