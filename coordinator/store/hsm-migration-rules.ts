// What both HsmMigrationStore implementations decide the same way: which states are active and
// the errors they refuse with.
import { TERMINAL_HSM_MIGRATION_STATES, type HsmMigrationState } from '../../shared/schemas/hsm-migration.js'
import { CoordinatorError } from '../errors.js'

/** True for a state a migration never leaves. */
export function isTerminalMigration (state: HsmMigrationState): boolean {
  return TERMINAL_HSM_MIGRATION_STATES.includes(state)
}

/** The cluster already has an active migration. */
export function migrationConflictError (cluster: string, active?: { id: string, state: string }): CoordinatorError {
  const which = active === undefined ? 'an active HSM migration' : `an active HSM migration (${active.id}, ${active.state})`
  return new CoordinatorError('CRD_ROLLOUT_CONFLICT', `cluster ${cluster} already has ${which}; wait for it to finish, or pause or abort it`)
}

/** No migration with that id. */
export function unknownMigration (id: string): CoordinatorError {
  return new CoordinatorError('CRD_NOT_FOUND', `no HSM migration ${id}`)
}
