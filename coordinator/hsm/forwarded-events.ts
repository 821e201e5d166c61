// Which of a rollout's events the migration already holds, so a runner that follows the rollout
// again (after a coordinator restart) forwards each event once. The runner announces each rollout
// with a `phase` event naming it before forwarding any of its events, and forwards them in order,
// so the count after the last such announcement is where to go on from.
import type { HsmMigrationEvent } from '../../shared/schemas/hsm-migration.js'
import type { RolloutEventType } from '../../shared/schemas/rollout.js'
import type { HsmMigrationStore } from '../store/hsm-migration-store.js'

/** The event types a rollout makes (forwarded with `phase` set). */
export const ROLLOUT_EVENT_TYPES: ReadonlySet<HsmMigrationEvent['type']> = new Set<RolloutEventType>(['rollout', 'step', 'apply', 'journal', 'verdict', 'gate', 'stage', 'info'])

/** How many events of rollout `rolloutId` (phase `phase`) migration `migrationId` already holds. */
export async function forwardedCount (store: Pick<HsmMigrationStore, 'events'>, migrationId: string, rolloutId: string, phase: 'A' | 'B'): Promise<number> {
  let count = 0
  let counting = false
  for (let from = 0; ;) {
    const batch = await store.events(migrationId, { from, limit: 1000 })
    for (const e of batch) {
      if (e.type === 'phase' && (e.data as { rollout?: unknown } | undefined)?.rollout !== undefined) {
        counting = (e.data as { rollout: unknown }).rollout === rolloutId
        if (counting) count = 0
      } else if (counting && e.phase === phase && ROLLOUT_EVENT_TYPES.has(e.type)) {
        count++
      }
    }
    if (batch.length < 1000) return count
    from += batch.length
  }
}
