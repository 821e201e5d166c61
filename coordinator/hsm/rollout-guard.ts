// One active migration or rollout per cluster, seen from the API's side: while a cluster has an
// active HSM migration, the routes may not start (or re-activate, by rollback) another rollout
// there; the migration's own rollouts go to the engine directly and are not guarded. The engine
// already refuses a second active rollout; the migration refuses to start beside one.
import type { Rollout } from '../../shared/schemas/rollout.js'
import { CoordinatorError } from '../errors.js'
import type { RolloutControl, StartRequest } from '../ports/rollout-control.js'
import type { HsmMigrationStore } from '../store/hsm-migration-store.js'

/** `control` with start and rollback refused on a cluster that has an active HSM migration. */
export function guardRollouts (control: RolloutControl, migrations: Pick<HsmMigrationStore, 'activeMigrations'>): RolloutControl {
  const refuseBusy = async (cluster: string): Promise<void> => {
    const active = (await migrations.activeMigrations()).find((m) => m.migration.cluster === cluster)
    if (active !== undefined) {
      throw new CoordinatorError('CRD_ROLLOUT_CONFLICT', `cluster ${cluster} has an active HSM migration ${active.migration.id} (${active.migration.state}, phase ${active.migration.phase}); wait for it, or pause/abort it`)
    }
  }
  return {
    plan: async (cluster, change, actor) => await control.plan(cluster, change, actor),
    start: async (req: StartRequest): Promise<Rollout> => {
      await refuseBusy(req.cluster)
      return await control.start(req)
    },
    pause: async (id, actor) => await control.pause(id, actor),
    resume: async (id, actor) => await control.resume(id, actor),
    abort: async (id, actor) => await control.abort(id, actor),
    promote: async (id, actor) => await control.promote(id, actor),
    rollback: async (id, actor) => {
      const r = await control.get(id)
      if (r !== undefined) await refuseBusy(r.cluster)
      return await control.rollback(id, actor)
    },
    get: async (id) => await control.get(id),
    list: async (opts) => await control.list(opts),
    events: async (id, opts) => await control.events(id, opts),
    subscribe: (id, onEvent) => control.subscribe(id, onEvent)
  }
}
