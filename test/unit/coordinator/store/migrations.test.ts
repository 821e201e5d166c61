// The store's schema version and migrations: ordered, each atomic, a newer store refused.
import t from 'tap'
import Database from 'better-sqlite3'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditFile } from '../../../../coordinator/audit/verify-audit-file.js'
import { latestVersion, migrate, MIGRATIONS, schemaVersion, type Migration } from '../../../../coordinator/store/migrations.js'
import { openStoreDb } from '../../../../coordinator/store/sqlite-db.js'
import { TERMINAL_HSM_MIGRATION_STATES } from '../../../../shared/schemas/hsm-migration.js'
import { TERMINAL_ROLLOUT_STATES } from '../../../../shared/schemas/rollout.js'

const M1 = MIGRATIONS[0] as Migration
const M2: Migration = { version: 2, name: 'rollout notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT;' }

function tables (db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map(r => r.name)
}

t.test('migrations are numbered 1, 2, 3… without gaps', async t => {
  t.ok(MIGRATIONS.length >= 1)
  t.same(MIGRATIONS.map(m => m.version), MIGRATIONS.map((_, i) => i + 1))
  t.equal(latestVersion(), MIGRATIONS.length)
  const db = new Database(':memory:')
  t.teardown(() => db.close())
  t.throws(() => migrate(db, [M1, { ...M2, version: 3 }]), /expected 2/, 'a gap is a programming error')
})

t.test('the partial index of migration 1 names exactly the terminal states', async t => {
  const list = /state NOT IN \(([^)]*)\)/.exec(M1.sql)?.[1] ?? ''
  t.same(list.split(',').map(s => s.trim().replace(/'/g, '')).sort(), [...TERMINAL_ROLLOUT_STATES].sort(),
    'TERMINAL_ROLLOUT_STATES changed: add a migration that recreates rollouts_one_active_per_cluster')
})

t.test('the partial index of migration 2 names exactly the terminal HSM migration states', async t => {
  const list = /state NOT IN \(([^)]*)\)/.exec(MIGRATIONS[1]?.sql ?? '')?.[1] ?? ''
  t.same(list.split(',').map(s => s.trim().replace(/'/g, '')).sort(), [...TERMINAL_HSM_MIGRATION_STATES].sort(),
    'TERMINAL_HSM_MIGRATION_STATES changed: add a migration that recreates hsm_migrations_one_active_per_cluster')
})

t.test('a new file is brought to the latest version; an up-to-date one is left alone', async t => {
  const path = join(t.testdir({}), 'keyroll.db')
  const db = openStoreDb(path)
  t.teardown(() => db.close())
  t.equal(schemaVersion(db), latestVersion())
  t.same(tables(db), ['audit', 'cluster_root_keys', 'events', 'hsm_migration_events', 'hsm_migrations', 'rollouts', 'schema_version', 'slots', 'tokens'])
  t.same(migrate(db), { from: latestVersion(), to: latestVersion() }, 'nothing to do the second time')
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM schema_version').get() as { n: number }).n, MIGRATIONS.length, 'one row per migration')
})

t.test('only the missing migrations run, in order', async t => {
  const path = join(t.testdir({}), 'keyroll.db')
  openStoreDb(path, { migrations: [M1] }).close()
  const db = openStoreDb(path, { migrations: [M1, M2] })
  t.teardown(() => db.close())
  t.equal(schemaVersion(db), 2)
  t.ok(tables(db).includes('notes'), 'migration 2 ran')
  t.same((db.prepare('SELECT version, name FROM schema_version ORDER BY version').all()), [{ version: 1, name: M1.name }, { version: 2, name: M2.name }])
})

t.test('a failing migration leaves the store at the version before it', async t => {
  const path = join(t.testdir({}), 'keyroll.db')
  openStoreDb(path, { migrations: [M1] }).close()
  const bad: Migration = { version: 2, name: 'broken', sql: 'CREATE TABLE half (x TEXT); THIS IS NOT SQL;' }
  t.throws(() => openStoreDb(path, { migrations: [M1, bad] }), { code: 'CRD_STORE_UNREADABLE' })
  const db = new Database(path)
  t.teardown(() => db.close())
  t.equal(schemaVersion(db), 1)
  t.notOk(tables(db).includes('half'), 'nothing of the failed migration is left')
})

t.test('a store written by a newer keyroll is refused, clearly', async t => {
  const path = join(t.testdir({}), 'keyroll.db')
  openStoreDb(path, { migrations: [...MIGRATIONS, { ...M2, version: MIGRATIONS.length + 1 }] }).close()
  const err = (() => { try { openStoreDb(path) } catch (e) { return e } })()
  t.match(err, { code: 'CRD_STORE_VERSION', statusCode: 500 })
  t.match((err as Error).message, new RegExp(`schema version ${MIGRATIONS.length + 1}.*up to ${MIGRATIONS.length}.*newer keyroll`))
  await t.rejects(verifyAuditFile(path), { code: 'CRD_STORE_VERSION' }, 'audit verify refuses it too')
})

t.test('a file that is not a keyroll store is refused', async t => {
  const dir = t.testdir({})
  const foreign = join(dir, 'foreign.db')
  const f = new Database(foreign)
  f.exec('CREATE TABLE customers (id INTEGER)')
  f.close()
  t.throws(() => openStoreDb(foreign), { code: 'CRD_STORE_UNREADABLE', message: /not a keyroll store/ })
  const text = join(dir, 'text.db')
  writeFileSync(text, 'this is not a database at all, just some text that is long enough to look like a header\n'.repeat(20))
  t.throws(() => openStoreDb(text), { code: 'CRD_STORE_UNREADABLE' })
  t.throws(() => openStoreDb(join(dir, 'missing.db'), { readonly: true }), { code: 'CRD_STORE_UNREADABLE' }, 'read-only never creates')
})
