// The store's in-memory RolloutStore with what the engine's tests look at synchronously: every
// saved version of each rollout (and a hook called right after each save, before the engine runs
// the effects that came with it: kill points), the events and the audit entries as stored.
import type { Rollout, RolloutEvent } from '../../../../shared/schemas/rollout.js'
import type { NewAuditEntry } from '../../../../coordinator/audit/audit-chain.js'
import { MemoryRolloutStore } from '../../../../coordinator/store/memory-rollout-store.js'
import type { AuditEntry, NewRolloutEvent, StoredRollout } from '../../../../coordinator/store/rollout-store.js'

export class RecordingStore extends MemoryRolloutStore {
  readonly rollouts = new Map<string, StoredRollout>()
  readonly saves: Rollout[] = []
  readonly eventLog = new Map<string, RolloutEvent[]>()
  readonly auditLog: AuditEntry[] = []
  /** Called after each save, before the engine runs the effects that came with it. */
  onSave: ((r: Rollout) => void) | undefined

  override async createRollout (r: StoredRollout): Promise<void> {
    await super.createRollout(r)
    this.rollouts.set(r.rollout.id, structuredClone(r))
    this.saves.push(structuredClone(r.rollout))
  }

  override async saveRollout (rollout: Rollout): Promise<void> {
    await super.saveRollout(rollout)
    const s = this.rollouts.get(rollout.id)
    this.rollouts.set(rollout.id, { rollout: structuredClone(rollout), sealedChange: s?.sealedChange ?? '' })
    this.saves.push(structuredClone(rollout))
    this.onSave?.(structuredClone(rollout))
  }

  override async appendEvent (rolloutId: string, e: NewRolloutEvent): Promise<RolloutEvent> {
    const stored = await super.appendEvent(rolloutId, e)
    const list = this.eventLog.get(rolloutId) ?? []
    this.eventLog.set(rolloutId, list)
    list.push(stored)
    return stored
  }

  override async appendAudit (e: NewAuditEntry): Promise<AuditEntry> {
    const a = await super.appendAudit(e)
    this.auditLog.push(a)
    return a
  }
}
