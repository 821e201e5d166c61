// POST /v1/root-api-key: the root API key of the node's current minkms run, from its banner
// (agent/root-api-key.ts). It is the one route that answers a key in clear, so:
//  - POST, answered with `Cache-Control: no-store`: no proxy or client cache keeps it;
//  - behind the agent's mutual TLS (and `tls.allowedClients`) like every route: only the holder of
//    a client certificate of the agents' CA (the coordinator) can ask; a node can read its own
//    banner anyway, the agent adds nothing a node's root did not have;
//  - the secret mask that runs on every answer (plugins/secret-mask.ts) lets through exactly this
//    one value in this one answer (reply.revealSecret) and still masks anything else key-shaped;
//  - nothing here logs: the request log line names the route, never the answer.
// Input: no query, and an empty body or `{}`; anything else is refused (400) and reads nothing.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { RequestValidationError } from '../../shared/errors.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { RootApiKeyAnswerSchema } from '../../shared/schemas/root-api-key.js'
import type { AgentCore } from '../core.js'
import { currentRootApiKey } from '../root-api-key.js'

/** Options of the route. */
export interface RootApiKeyRoutesOptions { core: Pick<AgentCore, 'status' | 'journal' | 'unit'> }

const rootApiKeyRoutes: FastifyPluginAsyncTypebox<RootApiKeyRoutesOptions> = async (app, { core }) => {
  app.post('/v1/root-api-key', {
    schema: {
      querystring: Type.Object({}, { additionalProperties: false }),
      response: { 200: RootApiKeyAnswerSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req, reply) => {
    // No body schema (a schema cannot say "absent or {}"): checked here, before anything is read.
    const body: unknown = req.body
    if (body !== undefined && body !== null && !(typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)) {
      throw new RequestValidationError('body: this route takes no input; send no body or {}')
    }
    const k = await currentRootApiKey(core)
    reply.header('cache-control', 'no-store')
    reply.revealSecret = k.apiKey
    return { invocationId: k.invocationId, identity: k.identity, apiKey: { $secret: k.apiKey.reveal() } }
  })
}

export default rootApiKeyRoutes
