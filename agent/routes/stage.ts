// POST /v1/stage/commit and DELETE /v1/stage: the commit and the discard of the change staged by
// POST /v1/stage (registered with the change routes, in the scope that reads a body as a change
// spec; shared/schemas/staged.ts is the contract). The commit streams as an apply does
// (transaction-stream.ts), refusals included: a commit of a revision not staged
// (AGT_NOT_STAGED), of a change staged on other files (AGT_STAGED_STALE) or one that meets
// another change (AGT_CHANGE_CONFLICT) is a plain 409, not a line inside a 200 stream.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AgentCore } from '../core.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { CommitStagedBodySchema, DiscardStagedSchema } from '../../shared/schemas/staged.js'
import { streamResponses, streamTransaction } from './transaction-stream.js'

/** Options of the staging routes. */
export interface StageRoutesOptions {
  core: AgentCore
  /** Heartbeat interval of the commit's stream, ms. */
  heartbeatMs: number
  /** Fires when the server is closing; handed to the core so it can wind down a commit. */
  closing: AbortSignal
}

const stageRoutes: FastifyPluginAsyncTypebox<StageRoutesOptions> = async (app, { core, heartbeatMs, closing }) => {
  app.post('/v1/stage/commit', {
    schema: { body: CommitStagedBodySchema, response: streamResponses }
  }, async (req, reply) => {
    const { revision } = req.body
    return await streamTransaction(req, reply, heartbeatMs, async onEvent => await core.commitStaged(revision, { onEvent, signal: closing }))
  })

  app.delete('/v1/stage', {
    schema: { response: { 200: DiscardStagedSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } }
  }, async () => ({ discarded: await core.discardStaged() ?? null }))
}

export default stageRoutes
