// A staged change: an apply split in two so its restart can be timed by the caller. POST /v1/stage
// plans a change under the node's apply lock and keeps the transaction it would run in the agent's
// memory only (never on disk: the new files may hold secrets); it writes nothing. POST
// /v1/stage/commit then runs that transaction (backup, write, restart, verify, commit; or restore)
// without planning again, so the time from the request to the restart is the transaction's own.
// Uses: the rollout engine stages the next node while the current one restarts; the HSM
// migration's all-at-once phase B stages every node, then commits them together.
import Type, { type Static } from 'typebox'
import { PlanResultSchema } from './apply.js'

/** What POST /v1/stage answers and GET /v1/status shows (`staged`). */
export const StagedChangeSchema = Type.Object({
  revision: Type.Integer({ minimum: 1 }),
  changeHash: Type.String({ description: 'sha256 of the change spec as the agent stores it; no secret' }),
  stagedAt: Type.Number({ description: 'wall-clock ms' }),
  expiresAt: Type.Number({ description: 'wall-clock ms; after it the staged change is dropped and a commit is refused' }),
  plan: PlanResultSchema
})
export type StagedChange = Static<typeof StagedChangeSchema>

/** Body of POST /v1/stage/commit: the revision the caller staged (a commit of another one is refused). */
export const CommitStagedBodySchema = Type.Object({
  revision: Type.Integer({ minimum: 1 })
}, { additionalProperties: false })
export type CommitStagedBody = Static<typeof CommitStagedBodySchema>

/** Answer of DELETE /v1/stage: the revision dropped, or null when nothing was staged. */
export const DiscardStagedSchema = Type.Object({ discarded: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]) })
export type DiscardStaged = Static<typeof DiscardStagedSchema>
