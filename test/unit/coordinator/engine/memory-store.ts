// A minimal in-memory RolloutStore for the engine's tests, until the store's own
// (coordinator/store/memory-rollout-store.ts) lands. Keeps the port's invariants the engine relies
// on: one active rollout per cluster, gapless event indexes, a hash-chained audit log.
import { createHash } from 'node:crypto'
import type { Rollout, RolloutEvent } from '../../../../shared/schemas/rollout.js'
import { TERMINAL_ROLLOUT_STATES } from '../../../../shared/schemas/rollout.js'
import { CoordinatorError } from '../../../../coordinator/errors.js'
import type { AuditEntry, NewRolloutEvent, RolloutStore, Slot, StoredRollout, StoredToken } from '../../../../coordinator/store/rollout-store.js'

export class MemoryStore implements RolloutStore {
  readonly rollouts = new Map<string, StoredRollout>()
  readonly eventLog = new Map<string, RolloutEvent[]>()
  readonly auditLog: AuditEntry[] = []
  readonly slots = new Map<string, Slot>()
  readonly tokens = new Map<string, StoredToken>()
  /** Every saved version of each rollout, in order (tests check what was stored before an effect). */
  readonly saves: Rollout[] = []
  /** Called after each save, before the engine runs the effects that came with it. */
  onSave: ((r: Rollout) => void) | undefined

  async createRollout (r: StoredRollout): Promise<void> {
    const busy = [...this.rollouts.values()].find((x) => x.rollout.cluster === r.rollout.cluster && !TERMINAL_ROLLOUT_STATES.includes(x.rollout.state))
    if (busy !== undefined) throw new CoordinatorError('CRD_ROLLOUT_CONFLICT', `cluster ${r.rollout.cluster} has an active rollout ${busy.rollout.id}`)
    this.rollouts.set(r.rollout.id, structuredClone(r))
    this.saves.push(structuredClone(r.rollout))
  }

  async saveRollout (rollout: Rollout): Promise<void> {
    const s = this.rollouts.get(rollout.id)
    if (s === undefined) throw new Error(`no rollout ${rollout.id}`)
    this.rollouts.set(rollout.id, { rollout: structuredClone(rollout), sealedChange: s.sealedChange })
    this.saves.push(structuredClone(rollout))
    this.onSave?.(structuredClone(rollout))
  }

  async getRollout (id: string): Promise<StoredRollout | undefined> {
    const s = this.rollouts.get(id)
    return s === undefined ? undefined : structuredClone(s)
  }

  async listRollouts (opts: { cluster?: string, limit?: number } = {}): Promise<Rollout[]> {
    return [...this.rollouts.values()].map((s) => structuredClone(s.rollout)).filter((r) => opts.cluster === undefined || r.cluster === opts.cluster)
      .sort((a, b) => b.createdAt - a.createdAt).slice(0, opts.limit ?? 1000)
  }

  async activeRollouts (): Promise<StoredRollout[]> {
    return [...this.rollouts.values()].filter((s) => !TERMINAL_ROLLOUT_STATES.includes(s.rollout.state)).map((s) => structuredClone(s))
  }

  async appendEvent (rolloutId: string, e: NewRolloutEvent): Promise<RolloutEvent> {
    const list = this.eventLog.get(rolloutId) ?? []
    this.eventLog.set(rolloutId, list)
    const stored = { ...structuredClone(e), index: list.length }
    list.push(stored)
    return stored
  }

  async events (rolloutId: string, opts: { from?: number, limit?: number } = {}): Promise<RolloutEvent[]> {
    return (this.eventLog.get(rolloutId) ?? []).slice(opts.from ?? 0, (opts.from ?? 0) + (opts.limit ?? 1000))
  }

  async appendAudit (e: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>): Promise<AuditEntry> {
    const prevHash = this.auditLog.at(-1)?.hash ?? '0'.repeat(64)
    const seq = this.auditLog.length + 1
    const hash = createHash('sha256').update(JSON.stringify({ ...e, seq, prevHash })).digest('hex')
    const entry = { ...e, seq, prevHash, hash }
    this.auditLog.push(entry)
    return entry
  }

  async audit (opts: { from?: number, limit?: number } = {}): Promise<AuditEntry[]> {
    return this.auditLog.filter((a) => a.seq >= (opts.from ?? 1)).slice(0, opts.limit ?? 1000)
  }

  async putToken (t: StoredToken): Promise<void> { this.tokens.set(t.name, t) }
  async tokenByHash (hash: string): Promise<StoredToken | undefined> { return [...this.tokens.values()].find((t) => t.hash === hash && t.revokedAt === undefined) }
  async listTokens (): Promise<StoredToken[]> { return [...this.tokens.values()] }
  async revokeToken (name: string, at: number): Promise<boolean> {
    const t = this.tokens.get(name)
    if (t === undefined) return false
    this.tokens.set(name, { ...t, revokedAt: at })
    return true
  }

  async openSlots (cluster: string, now: number): Promise<Slot[]> {
    return [...this.slots.values()].filter((s) => s.cluster === cluster && s.releasedAt === undefined && s.expiresAt > now)
  }

  async putSlot (s: Slot): Promise<void> { this.slots.set(s.id, s) }
  async releaseSlot (id: string, at: number, result: string): Promise<Slot | undefined> {
    const s = this.slots.get(id)
    if (s === undefined || s.releasedAt !== undefined) return undefined
    const released = { ...s, releasedAt: at, result }
    this.slots.set(id, released)
    return released
  }

  async close (): Promise<void> {}
}
