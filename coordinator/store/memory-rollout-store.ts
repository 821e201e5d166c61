// The RolloutStore in memory, for unit tests of the engine, routes and auth. It keeps every rule
// of the port as the SQLite store does (test/unit/coordinator/store/store-conformance.ts runs the
// same tests against both): values go in and come out through a JSON round trip, so a caller
// that mutates what it handed in or got back changes nothing stored, and what it reads back is
// what SQLite would give it.
import type { Rollout, RolloutEvent } from '../../shared/schemas/rollout.js'
import { chainAuditEntry, type NewAuditEntry } from '../audit/audit-chain.js'
import type { AuditEntry, NewRolloutEvent, RolloutStore, Slot, StoredRollout, StoredToken } from './rollout-store.js'
import { closedError, conflictError, isTerminal, limitOf, unknownRollout } from './store-rules.js'

function copy<T> (v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

interface Entry { rollout: Rollout, sealedChange: string, seq: number, events: RolloutEvent[] }

/** An in-memory RolloutStore. */
export class MemoryRolloutStore implements RolloutStore {
  readonly #rollouts = new Map<string, Entry>()
  readonly #audit: AuditEntry[] = []
  readonly #tokens = new Map<string, StoredToken>()
  readonly #slots = new Map<string, Slot>()
  #seq = 0
  #closed = false

  async createRollout (r: StoredRollout): Promise<void> {
    this.#open()
    if (this.#rollouts.has(r.rollout.id)) throw new Error(`rollout ${r.rollout.id} exists`)
    if (!isTerminal(r.rollout.state)) {
      const active = this.#activeOn(r.rollout.cluster)
      if (active !== undefined) throw conflictError(r.rollout.cluster, active)
    }
    this.#rollouts.set(r.rollout.id, { rollout: copy(r.rollout), sealedChange: r.sealedChange, seq: this.#seq++, events: [] })
  }

  async saveRollout (rollout: Rollout): Promise<void> {
    this.#open()
    const e = this.#rollouts.get(rollout.id)
    if (e === undefined) throw unknownRollout(rollout.id)
    if (e.rollout.cluster !== rollout.cluster) throw new Error(`rollout ${rollout.id} cannot move from cluster ${e.rollout.cluster} to ${rollout.cluster}`)
    if (!isTerminal(rollout.state)) {
      const active = this.#activeOn(rollout.cluster)
      if (active !== undefined && active.id !== rollout.id) throw conflictError(rollout.cluster, active)
    }
    e.rollout = copy(rollout)
  }

  async getRollout (id: string): Promise<StoredRollout | undefined> {
    this.#open()
    const e = this.#rollouts.get(id)
    return e === undefined ? undefined : { rollout: copy(e.rollout), sealedChange: e.sealedChange }
  }

  async listRollouts (opts: { cluster?: string, limit?: number } = {}): Promise<Rollout[]> {
    this.#open()
    return this.#newestFirst()
      .filter(e => opts.cluster === undefined || e.rollout.cluster === opts.cluster)
      .slice(0, limitOf(opts.limit))
      .map(e => copy(e.rollout))
  }

  async activeRollouts (): Promise<StoredRollout[]> {
    this.#open()
    return this.#newestFirst().reverse()
      .filter(e => !isTerminal(e.rollout.state))
      .map(e => ({ rollout: copy(e.rollout), sealedChange: e.sealedChange }))
  }

  async appendEvent (rolloutId: string, e: NewRolloutEvent): Promise<RolloutEvent> {
    this.#open()
    const entry = this.#rollouts.get(rolloutId)
    if (entry === undefined) throw unknownRollout(rolloutId)
    const event = { ...copy(e), index: entry.events.length }
    entry.events.push(event)
    return copy(event)
  }

  async events (rolloutId: string, opts: { from?: number, limit?: number } = {}): Promise<RolloutEvent[]> {
    this.#open()
    const from = Math.max(0, opts.from ?? 0)
    return (this.#rollouts.get(rolloutId)?.events ?? []).slice(from, from + limitOf(opts.limit)).map(copy)
  }

  async appendAudit (e: NewAuditEntry): Promise<AuditEntry> {
    this.#open()
    const entry = chainAuditEntry(this.#audit.at(-1), e)
    this.#audit.push(entry)
    return copy(entry)
  }

  async audit (opts: { from?: number, limit?: number } = {}): Promise<AuditEntry[]> {
    this.#open()
    const from = Math.max(1, opts.from ?? 1)
    return this.#audit.slice(from - 1, from - 1 + limitOf(opts.limit)).map(copy)
  }

  async putToken (t: StoredToken): Promise<void> {
    this.#open()
    for (const other of this.#tokens.values()) {
      if (other.hash === t.hash && other.name !== t.name) throw new Error(`token ${t.name} has the same hash as token ${other.name}`)
    }
    this.#tokens.set(t.name, copy(t))
  }

  async tokenByHash (hash: string): Promise<StoredToken | undefined> {
    this.#open()
    for (const t of this.#tokens.values()) if (t.hash === hash && t.revokedAt === undefined) return copy(t)
    return undefined
  }

  async listTokens (): Promise<StoredToken[]> {
    this.#open()
    return [...this.#tokens.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0).map(copy)
  }

  async revokeToken (name: string, at: number): Promise<boolean> {
    this.#open()
    const t = this.#tokens.get(name)
    if (t === undefined || t.revokedAt !== undefined) return false
    this.#tokens.set(name, { ...t, revokedAt: at })
    return true
  }

  async openSlots (cluster: string, now: number): Promise<Slot[]> {
    this.#open()
    return [...this.#slots.values()]
      .filter(s => s.cluster === cluster && s.releasedAt === undefined && s.expiresAt > now)
      .sort((a, b) => a.grantedAt - b.grantedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(copy)
  }

  async putSlot (s: Slot): Promise<void> {
    this.#open()
    this.#slots.set(s.id, copy(s))
  }

  async releaseSlot (id: string, at: number, result: string): Promise<Slot | undefined> {
    this.#open()
    const s = this.#slots.get(id)
    if (s === undefined) return undefined
    if (s.releasedAt === undefined) this.#slots.set(id, { ...s, releasedAt: at, result })
    return copy(this.#slots.get(id))
  }

  async close (): Promise<void> {
    this.#closed = true
  }

  #open (): void {
    if (this.#closed) throw closedError()
  }

  #activeOn (cluster: string): Rollout | undefined {
    for (const e of this.#rollouts.values()) if (e.rollout.cluster === cluster && !isTerminal(e.rollout.state)) return e.rollout
    return undefined
  }

  // Newest first: by createdAt, then by order of creation (as SQLite orders by created_at, rowid).
  #newestFirst (): Entry[] {
    return [...this.#rollouts.values()].sort((a, b) => b.rollout.createdAt - a.rollout.createdAt || b.seq - a.seq)
  }
}
