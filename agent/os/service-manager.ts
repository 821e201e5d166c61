// Port: control of exactly one systemd unit (minkms.service on a Key Manager node).

// The unit's state (`systemctl show`) as the API shows it (shared/schemas/unit-status.ts is the one definition):
// ActiveState, SubState, Result, InvocationID ('' when it never ran), NRestarts (automatic
// restarts since the last manual start), MainPID (0 when none), ExecMainStatus, LoadState.
import type { UnitStatus } from '../../shared/schemas/unit-status.js'
export type { UnitStatus }

/** Controls exactly one unit. Implementations must be safe to call concurrently. */
export interface ServiceManager {
  /** The unit name, e.g. `minkms.service`. */
  readonly unit: string
  /** Reads the unit's state. Rejects when systemd cannot be asked. */
  status (): Promise<UnitStatus>
  /**
   * Queues a restart and returns once systemd accepted the job (`systemctl restart --no-block`):
   * for Type=simple units `systemctl restart` proves nothing anyway; the verifier watches the
   * outcome. Clears a `failed` state first so the start limit of a previous failure does not
   * refuse the restart. Rejects when the job is refused (unit not found, masked...).
   */
  restart (opts?: { signal?: AbortSignal }): Promise<void>
  /**
   * Optional: called before the verifier's baseline. Cancels an automatic restart that systemd
   * has pending (Restart=) so that no run other than ours can start after the baseline.
   */
  prepareRestart? (opts?: { signal?: AbortSignal }): Promise<void>
}
