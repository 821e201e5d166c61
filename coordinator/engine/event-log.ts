// A rollout's events: stored first, then handed to live subscribers, so a subscriber never sees
// an event a restarted coordinator would not replay. Appends of one rollout are serialised, so
// events are stored (and indexed) in the order the engine made them.
import type { RolloutEvent } from '../../shared/schemas/rollout.js'
import type { Logger } from '../../shared/logger.js'
import { redactText } from '../../shared/secrets/redact-text.js'
import type { NewRolloutEvent, RolloutStore } from '../store/rollout-store.js'
import { KeyedLock } from './cluster-lock.js'

/** Stores events and fans them out to subscribers. */
export class EventLog {
  readonly #subs = new Map<string, Set<(e: RolloutEvent) => void>>()
  readonly #order = new KeyedLock()

  constructor (private readonly store: RolloutStore, private readonly log: Logger) {}

  /** Stores `e` (its message masked for secret lookalikes) and calls every subscriber of the rollout. */
  async append (rolloutId: string, e: NewRolloutEvent): Promise<RolloutEvent> {
    return await this.#order.run(rolloutId, async () => {
      const stored = await this.store.appendEvent(rolloutId, { ...e, message: redactText(e.message, []) })
      for (const fn of this.#subs.get(rolloutId) ?? []) {
        try { fn(stored) } catch (err) { this.log.warn({ err, rolloutId }, 'an event subscriber threw') }
      }
      return stored
    })
  }

  /** Calls `fn` with every event of the rollout stored from now on, until the returned function is called. */
  subscribe (rolloutId: string, fn: (e: RolloutEvent) => void): () => void {
    let set = this.#subs.get(rolloutId)
    if (set === undefined) { set = new Set(); this.#subs.set(rolloutId, set) }
    set.add(fn)
    return () => {
      set.delete(fn)
      if (set.size === 0 && this.#subs.get(rolloutId) === set) this.#subs.delete(rolloutId)
    }
  }
}
