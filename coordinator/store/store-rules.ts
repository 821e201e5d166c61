// What both RolloutStore implementations decide the same way: which states are active, the errors
// they refuse with, default limits. Kept in one place so the in-memory store the unit tests use
// cannot drift from the SQLite store the daemon runs.
import { TERMINAL_ROLLOUT_STATES, type RolloutState } from '../../shared/schemas/rollout.js'
import { CoordinatorError } from '../errors.js'

/** Default and largest `limit` of list calls. */
export const DEFAULT_LIMIT = 1000
export const MAX_LIMIT = 10_000

/** True for a state a rollout never leaves. */
export function isTerminal (state: RolloutState): boolean {
  return TERMINAL_ROLLOUT_STATES.includes(state)
}

/** A list call's limit, bounded. */
export function limitOf (limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT
  return Math.max(0, Math.min(MAX_LIMIT, Math.floor(limit)))
}

/** The cluster already has an active rollout. */
export function conflictError (cluster: string, active?: { id: string, state: string }): CoordinatorError {
  const which = active === undefined ? 'an active rollout' : `an active rollout (${active.id}, ${active.state})`
  return new CoordinatorError('CRD_ROLLOUT_CONFLICT', `cluster ${cluster} already has ${which}; wait for it to finish, or pause or abort it`)
}

/** No rollout with that id. */
export function unknownRollout (id: string): CoordinatorError {
  return new CoordinatorError('CRD_NOT_FOUND', `no rollout ${id}`)
}

/** A programming error: the store was used after close(). */
export function closedError (): Error {
  return new Error('the rollout store is closed')
}

/**
 * Runs a write guarded by a partial unique index (one active rollout or migration per cluster):
 * the index refusing it means another one became active between the check and the write (another
 * process on the same file), answered with `conflict()`.
 */
export function uniqueOrConflict (write: () => unknown, conflict: () => Error): void {
  try {
    write()
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw conflict()
    throw err
  }
}
