// The coordinator's sealed box: shared/secrets/sealed-box.ts with `coordinator.key` in the
// coordinator's state dir. It seals each rollout's change (its wire form holds API keys) before
// the change reaches the store, so keyroll.db, its WAL and any backup of them hold no secret in
// clear; only the holder of coordinator.key can read a change back.
import { SealedBox, type SealingKind } from '../../shared/secrets/sealed-box.js'
import { CoordinatorError } from '../errors.js'

/** The coordinator's kind of box. */
export const COORDINATOR_SEALING: SealingKind = {
  keyFile: 'coordinator.key',
  label: 'keyroll-coordinator',
  error: (what) => new CoordinatorError('CRD_STATE_SEALED', `cannot open sealed state ${what}: corrupt or sealed with another coordinator key`)
}

/** Loads `<stateDir>/coordinator.key`, creating it (0600) on first use. */
export async function openCoordinatorBox (stateDir: string): Promise<SealedBox> {
  return await SealedBox.open(stateDir, COORDINATOR_SEALING)
}

/** A coordinator box with an explicit key (tests). */
export function coordinatorBoxWithKey (key: Buffer): SealedBox {
  return SealedBox.withKey(key, COORDINATOR_SEALING)
}
