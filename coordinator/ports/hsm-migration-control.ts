// What the API routes drive for HSM migrations (POST/GET /v1/hsm-migrations…). The real
// implementation is the migration orchestrator (coordinator/hsm/), which runs each phase as a
// rollout of the engine; routes and the CLI are tested against a fake. Every method that changes
// something takes the actor (token name) for the audit log.
import type { Secret } from '../../shared/secrets/secret.js'
import type { HsmMigration, HsmMigrationEvent, HsmMigrationStartAnswer } from '../../shared/schemas/hsm-migration.js'

/** POST /v1/hsm-migrations once parsed: the secrets wrapped, durations still as written. */
export interface HsmMigrationStart {
  cluster: string
  external: string[]
  enclave: string
  key: string
  /** The external Key Manager's root/SysAdmin API key (provisioning only; stored sealed). */
  adminKey: Secret
  keepLocalHsm: boolean
  replaceHsm: boolean
  removeLocalSealedCopy: boolean
  /** How phase B restarts the nodes (default rolling). */
  phaseB: 'rolling' | 'all-at-once'
  /** The all-at-once phase B's write outage accepted (refused without). */
  allowWriteOutage: boolean
  dryRun: boolean
  revealApiKey: boolean
  strategy?: { healthyDeadline?: string, progressDeadline?: string, minHealthyTime?: string }
  actor: string
}

/** HSM migrations: start (or dry-run), steer, read, follow. */
export interface HsmMigrationControl {
  /**
   * Dry run: checks everything and answers `{ dryRun }` (200), storing nothing. Otherwise checks
   * what can be checked at once (unknown cluster: CRD_NOT_FOUND; a migration or rollout active on
   * the cluster: CRD_ROLLOUT_CONFLICT; an external server that is one of the cluster's own nodes:
   * CRD_HSM_SELF_SEAL), stores the migration and starts it: `{ migration }` (201). Provisioning,
   * preflight and the refusals that need the nodes (another HSM block, an unhealthy node) then
   * run in the migration and fail it with their message before any node is touched.
   */
  start (req: HsmMigrationStart): Promise<HsmMigrationStartAnswer>
  /** Pauses the running phase's rollout (or stops before the next phase). */
  pause (id: string, actor: string): Promise<HsmMigration>
  /** Resumes a paused migration, or a failed one once its cause is fixed (from the phase it failed in; done nodes are not touched again). */
  resume (id: string, actor: string): Promise<HsmMigration>
  /** Stops after the node in flight; nodes not reached stay as they are. */
  abort (id: string, actor: string): Promise<HsmMigration>
  get (id: string): Promise<HsmMigration | undefined>
  list (opts?: { cluster?: string, limit?: number }): Promise<HsmMigration[]>
  /** Stored events from `from` (default 0), oldest first. */
  events (id: string, opts?: { from?: number, limit?: number }): Promise<HsmMigrationEvent[]>
  /** Every event of `id` appended from now on, until the returned function is called. */
  subscribe (id: string, onEvent: (e: HsmMigrationEvent) => void): () => void
}
