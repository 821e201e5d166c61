// A migration's events: stored first, then handed to live subscribers (as the engine's event log
// does for rollouts), so a subscriber never sees an event a restarted coordinator would not
// replay. Appends of one migration are serialised; messages pass the secret mask with the
// migration's own secrets as well as the lookalike patterns.
import type { Logger } from '../../shared/logger.js'
import type { HsmMigrationEvent } from '../../shared/schemas/hsm-migration.js'
import { redactText } from '../../shared/secrets/redact-text.js'
import type { Secret } from '../../shared/secrets/secret.js'
import { KeyedLock } from '../engine/cluster-lock.js'
import type { HsmMigrationStore, NewHsmMigrationEvent } from '../store/hsm-migration-store.js'

/** Stores events and fans them out. */
export class MigrationEventLog {
  readonly #subs = new Map<string, Set<(e: HsmMigrationEvent) => void>>()
  readonly #order = new KeyedLock()

  constructor (private readonly store: HsmMigrationStore, private readonly log: Logger) {}

  async append (migrationId: string, e: NewHsmMigrationEvent, secrets: ReadonlyArray<Secret | string> = []): Promise<HsmMigrationEvent> {
    return await this.#order.run(migrationId, async () => {
      const stored = await this.store.appendEvent(migrationId, { ...e, message: redactText(e.message, secrets) })
      for (const fn of this.#subs.get(migrationId) ?? []) {
        try { fn(stored) } catch (err) { this.log.warn({ err, migrationId }, 'an event subscriber threw') }
      }
      return stored
    })
  }

  subscribe (migrationId: string, fn: (e: HsmMigrationEvent) => void): () => void {
    let set = this.#subs.get(migrationId)
    if (set === undefined) { set = new Set(); this.#subs.set(migrationId, set) }
    set.add(fn)
    return () => {
      set.delete(fn)
      if (set.size === 0 && this.#subs.get(migrationId) === set) this.#subs.delete(migrationId)
    }
  }
}
