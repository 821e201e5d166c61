// POST /v1/clusters/:name/root-api-key: hands the cluster's adopted root API key to the operator,
// once (coordinator/gate/root-key-handover.ts). An operator token; the answer carries the key
// (`{ "$secret": … }`) with `Cache-Control: no-store`; later requests answer 410 saying when it was
// handed over. Nothing here logs the key or the answer; the audit log records the hand-over.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { IdentitySchema } from '../../shared/schemas/root-api-key.js'
import { actorOf } from '../auth/auth-hook.js'
import type { RootKeyControl } from '../ports/root-key-control.js'
import { ClusterName } from './params.js'

/** Options of the route. */
export interface RootKeyRoutesOptions { rootKeys: RootKeyControl }

/** The hand-over answer. */
export const RootKeyHandOverSchema = Type.Object({
  identity: IdentitySchema,
  apiKey: Type.Object({ $secret: Type.String({ description: 'the root API key (k1:/k2:): keep it in a 0600 file, it is not shown again' }) }, { additionalProperties: false })
}, { additionalProperties: false })

const rootKeyRoutes: FastifyPluginAsyncTypebox<RootKeyRoutesOptions> = async (app, { rootKeys }) => {
  app.post('/v1/clusters/:name/root-api-key', {
    config: { access: 'operator' },
    schema: {
      summary: 'Hand over the cluster\'s adopted root API key, once (it changed with its HSM; the coordinator kept it sealed)',
      params: Type.Object({ name: ClusterName }, { additionalProperties: false }),
      querystring: Type.Object({}, { additionalProperties: false }),
      response: { 200: RootKeyHandOverSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req, reply) => {
    const k = await rootKeys.handOver(req.params.name, actorOf(req))
    req.log.info({ cluster: req.params.name, identity: k.identity }, 'root API key handed over')
    reply.header('cache-control', 'no-store')
    return { identity: k.identity, apiKey: { $secret: k.apiKey.reveal() } }
  })
}

export default rootKeyRoutes
