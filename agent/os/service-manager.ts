// Port: control of exactly one systemd unit (minkms.service on a Key Manager node).

/** The unit's state as `systemctl show` reports it. */
export interface UnitStatus {
  /** ActiveState: active | activating | deactivating | failed | inactive | reloading. */
  activeState: string
  /** SubState: running | auto-restart | dead | failed | exited | start | stop-sigterm ... */
  subState: string
  /** Result: success | exit-code | signal | core-dump | timeout | start-limit-hit ... */
  result: string
  /** InvocationID of the current (or last) run, 32 hex chars; '' when it never ran. */
  invocationId: string
  /** How often systemd restarted it on its own (Restart=) since the last manual start. */
  nRestarts: number
  /** PID of the main process; 0 when none. */
  mainPid: number
  /** Exit status of the last main process. */
  execMainStatus: number
  /** LoadState: loaded | not-found | masked | error ... */
  loadState: string
}

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
