// The HsmMigrationStore in memory, for unit tests. It keeps every rule of the port as the SQLite
// store does (test/unit/coordinator/store/hsm-migration-store.test.ts runs the same tests
// against both); values go in and come out through a JSON round trip, as SQLite would give them.
import type { HsmMigration, HsmMigrationEvent } from '../../shared/schemas/hsm-migration.js'
import type { HsmMigrationStore, HsmMigrationWork, NewHsmMigrationEvent, StoredHsmMigration } from './hsm-migration-store.js'
import { isTerminalMigration, migrationConflictError, unknownMigration } from './hsm-migration-rules.js'
import { closedError, limitOf } from './store-rules.js'

function copy<T> (v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

interface Entry { migration: HsmMigration, work: HsmMigrationWork, sealedSecrets: string, seq: number, events: HsmMigrationEvent[] }

/** An in-memory HsmMigrationStore. */
export class MemoryHsmMigrationStore implements HsmMigrationStore {
  readonly #entries = new Map<string, Entry>()
  #seq = 0
  #closed = false

  async createMigration (m: StoredHsmMigration): Promise<void> {
    this.#open()
    if (this.#entries.has(m.migration.id)) throw new Error(`HSM migration ${m.migration.id} exists`)
    if (!isTerminalMigration(m.migration.state)) {
      const active = this.#activeOn(m.migration.cluster)
      if (active !== undefined) throw migrationConflictError(m.migration.cluster, active)
    }
    this.#entries.set(m.migration.id, { migration: copy(m.migration), work: copy(m.work), sealedSecrets: m.sealedSecrets, seq: this.#seq++, events: [] })
  }

  async saveMigration (migration: HsmMigration, work: HsmMigrationWork, sealedSecrets?: string): Promise<void> {
    this.#open()
    const e = this.#entries.get(migration.id)
    if (e === undefined) throw unknownMigration(migration.id)
    if (e.migration.cluster !== migration.cluster) throw new Error(`HSM migration ${migration.id} cannot move from cluster ${e.migration.cluster} to ${migration.cluster}`)
    e.migration = copy(migration)
    e.work = copy(work)
    if (sealedSecrets !== undefined) e.sealedSecrets = sealedSecrets
  }

  async getMigration (id: string): Promise<StoredHsmMigration | undefined> {
    this.#open()
    const e = this.#entries.get(id)
    return e === undefined ? undefined : { migration: copy(e.migration), work: copy(e.work), sealedSecrets: e.sealedSecrets }
  }

  async listMigrations (opts: { cluster?: string, limit?: number } = {}): Promise<HsmMigration[]> {
    this.#open()
    return this.#newestFirst()
      .filter((e) => opts.cluster === undefined || e.migration.cluster === opts.cluster)
      .slice(0, limitOf(opts.limit))
      .map((e) => copy(e.migration))
  }

  async activeMigrations (): Promise<StoredHsmMigration[]> {
    this.#open()
    return this.#newestFirst().reverse()
      .filter((e) => !isTerminalMigration(e.migration.state))
      .map((e) => ({ migration: copy(e.migration), work: copy(e.work), sealedSecrets: e.sealedSecrets }))
  }

  async appendEvent (migrationId: string, e: NewHsmMigrationEvent): Promise<HsmMigrationEvent> {
    this.#open()
    const entry = this.#entries.get(migrationId)
    if (entry === undefined) throw unknownMigration(migrationId)
    const event = { ...copy(e), index: entry.events.length }
    entry.events.push(event)
    return copy(event)
  }

  async events (migrationId: string, opts: { from?: number, limit?: number } = {}): Promise<HsmMigrationEvent[]> {
    this.#open()
    const from = Math.max(0, opts.from ?? 0)
    return (this.#entries.get(migrationId)?.events ?? []).slice(from, from + limitOf(opts.limit)).map(copy)
  }

  async close (): Promise<void> {
    this.#closed = true
  }

  #open (): void {
    if (this.#closed) throw closedError()
  }

  #activeOn (cluster: string): HsmMigration | undefined {
    for (const e of this.#entries.values()) if (e.migration.cluster === cluster && !isTerminalMigration(e.migration.state)) return e.migration
    return undefined
  }

  #newestFirst (): Entry[] {
    return [...this.#entries.values()].sort((a, b) => b.migration.createdAt - a.migration.createdAt || b.seq - a.seq)
  }
}
