// GET /v1/audit?from=N: the audit log, oldest first from sequence number N. The chain is checked
// by `keyroll audit verify` (coordinator/audit/).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { AuditEntrySchema } from '../../shared/schemas/audit.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import type { RolloutStore } from '../store/rollout-store.js'
import { Limit } from './params.js'

/** Options of the audit route. */
export interface AuditRoutesOptions { store: Pick<RolloutStore, 'audit'> }

const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (app, { store }) => {
  app.get('/v1/audit', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Audit entries from a sequence number',
      querystring: Type.Object({
        from: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
        limit: Type.Optional(Limit)
      }, { additionalProperties: false }),
      response: { 200: Type.Array(AuditEntrySchema), '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req) => await store.audit({ from: req.query.from ?? 1, limit: req.query.limit ?? 1000 }))
}

export default auditRoutes
