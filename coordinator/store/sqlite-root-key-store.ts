// The RootKeyStore on SQLite: the `cluster_root_keys` table in the coordinator's one file
// (`<stateDir>/keyroll.db`), through a connection of its own (WAL lets it sit beside the other
// stores). The key is sealed with coordinator.key together with its cluster and identity, and
// opened only when both match the row: a sealed value copied onto another row does not open.
import type { Database } from 'better-sqlite3'
import { join } from 'node:path'
import { Secret } from '../../shared/secrets/secret.js'
import type { Sealer } from '../engine/sealer.js'
import { CoordinatorError } from '../errors.js'
import type { AdoptedRootKey, HandOver, RootKeyStore } from './root-key-store.js'
import { openStoreDb, STORE_FILE, type OpenStoreDbOptions } from './sqlite-db.js'
import { closedError } from './store-rules.js'

interface Row { cluster: string, identity: string, sealed: string, adopted_at: number, handed_over_at: number | null }

/** A RootKeyStore on one SQLite file. */
export class SqliteRootKeyStore implements RootKeyStore {
  readonly #db: Database
  readonly #sealer: Sealer
  readonly #s: ReturnType<typeof statements>
  #closed = false

  private constructor (db: Database, sealer: Sealer) {
    this.#db = db
    this.#sealer = sealer
    this.#s = statements(db)
  }

  /** Opens (creating and migrating) the store file at `path`. */
  static open (path: string, sealer: Sealer, opts: Omit<OpenStoreDbOptions, 'readonly'> = {}): SqliteRootKeyStore {
    return new SqliteRootKeyStore(openStoreDb(path, opts), sealer)
  }

  /** Opens `<stateDir>/keyroll.db`. */
  static inStateDir (stateDir: string, sealer: Sealer): SqliteRootKeyStore {
    return SqliteRootKeyStore.open(join(stateDir, STORE_FILE), sealer)
  }

  async get (cluster: string): Promise<AdoptedRootKey | undefined> {
    this.#open()
    const row = this.#s.get.get(cluster) as Row | undefined
    return row === undefined ? undefined : this.#key(row)
  }

  async adopt (cluster: string, identity: string, apiKey: Secret, at: number): Promise<void> {
    this.#open()
    const sealed = this.#sealer.seal(JSON.stringify({ cluster, identity, apiKey: apiKey.reveal() }))
    this.#s.upsert.run(cluster, identity, sealed, at)
  }

  async drop (cluster: string): Promise<void> {
    this.#open()
    this.#s.drop.run(cluster)
  }

  async handOver (cluster: string, at: number): Promise<HandOver> {
    this.#open()
    return this.#db.transaction((): HandOver => {
      const row = this.#s.get.get(cluster) as Row | undefined
      if (row === undefined) return { handedOver: false, reason: 'none' }
      if (row.handed_over_at !== null) return { handedOver: false, reason: 'already', identity: row.identity, handedOverAt: row.handed_over_at }
      // Opened before it is marked: a key that cannot be opened is not marked handed over.
      const key = this.#key(row)
      this.#s.handOver.run(at, cluster)
      return { handedOver: true, key: { ...key, handedOverAt: at } }
    }).immediate()
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#db.close()
  }

  #key (row: Row): AdoptedRootKey {
    let v: { cluster?: unknown, identity?: unknown, apiKey?: unknown }
    try {
      v = JSON.parse(this.#sealer.open(row.sealed)) as typeof v
    } catch (err) {
      throw new CoordinatorError('CRD_STATE_SEALED', `the adopted root key of cluster ${row.cluster} cannot be opened (corrupt, or sealed with another coordinator key)`, { cause: err })
    }
    if (v.cluster !== row.cluster || v.identity !== row.identity || typeof v.apiKey !== 'string') {
      throw new CoordinatorError('CRD_STATE_SEALED', `the adopted root key of cluster ${row.cluster} was sealed for another cluster or identity`)
    }
    return {
      cluster: row.cluster,
      identity: row.identity,
      apiKey: new Secret(v.apiKey),
      adoptedAt: row.adopted_at,
      ...(row.handed_over_at === null ? {} : { handedOverAt: row.handed_over_at })
    }
  }

  #open (): void {
    if (this.#closed) throw closedError()
  }
}

function statements (db: Database) {
  return {
    get: db.prepare('SELECT cluster, identity, sealed, adopted_at, handed_over_at FROM cluster_root_keys WHERE cluster = ?'),
    upsert: db.prepare(`INSERT INTO cluster_root_keys (cluster, identity, sealed, adopted_at, handed_over_at) VALUES (?, ?, ?, ?, NULL)
      ON CONFLICT (cluster) DO UPDATE SET sealed = excluded.sealed,
        adopted_at = CASE WHEN identity = excluded.identity THEN adopted_at ELSE excluded.adopted_at END,
        handed_over_at = CASE WHEN identity = excluded.identity THEN handed_over_at ELSE NULL END,
        identity = excluded.identity`),
    drop: db.prepare('DELETE FROM cluster_root_keys WHERE cluster = ?'),
    handOver: db.prepare('UPDATE cluster_root_keys SET handed_over_at = ? WHERE cluster = ? AND handed_over_at IS NULL')
  }
}
