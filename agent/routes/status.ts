// GET /v1/status: unit state, revisions, drift, last result and checks. The response schema is
// the allowlist of what leaves: a field the core adds is not serialised until the schema has it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AgentCore } from '../core.js'
import { AgentStatusSchema } from '../../shared/schemas/agent-status.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'

/** Options of the status route. */
export interface StatusRoutesOptions { core: AgentCore }

const statusRoutes: FastifyPluginAsyncTypebox<StatusRoutesOptions> = async (app, { core }) => {
  app.get('/v1/status', {
    schema: { response: { 200: AgentStatusSchema, '5xx': ErrorBodySchema } }
  }, async () => await core.status())
}

export default statusRoutes
