// POST /v1/preflight/external-kms: from this node's network position, can each external Key
// Manager server be reached over TLS with the CA this node's minkms uses, does the API key
// authenticate, and does the key round-trip? Read-only (no file, no unit touched), but it makes
// outbound connections on the caller's behalf, so it sits with the write routes behind the same
// mutual TLS. The body's API key (`{ "$secret": … }` or plain) is never answered back or logged:
// the response schema has no field for it and the secret mask runs on every body.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { checkedExternalServers } from '../../shared/minkms/external-servers.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { ExternalKmsPreflightRequestSchema, ExternalKmsPreflightResultSchema } from '../../shared/schemas/preflight.js'
import type { ExternalKmsPreflightPort } from '../preflight/external-kms-preflight.js'

/** Options of the preflight route. */
export interface PreflightRoutesOptions { preflight: ExternalKmsPreflightPort }

const preflightRoutes: FastifyPluginAsyncTypebox<PreflightRoutesOptions> = async (app, { preflight }) => {
  app.post('/v1/preflight/external-kms', {
    schema: {
      body: ExternalKmsPreflightRequestSchema,
      response: { 200: ExternalKmsPreflightResultSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req) => {
    // Each server checked as the node's config would check it, ports written out, before any
    // connection is made (shared/minkms/external-servers.ts).
    const servers = checkedExternalServers(req.body.servers, 'body.servers')
    return await preflight.run({ ...req.body, servers })
  })
}

export default preflightRoutes
