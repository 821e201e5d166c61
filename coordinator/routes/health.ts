// Liveness, readiness and metrics; no token (monitoring polls them). /health/live proves only
// that the event loop turns: it must not depend on the store or on any node, or a sick cluster
// would get the coordinator restarted in a loop. /health/ready is 200 only when the store is open
// and the engine runs (what `ready` reports).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type, { type Static } from 'typebox'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { METRICS_CONTENT_TYPE } from '../metrics.js'

export const CoordinatorReadySchema = Type.Object({
  ok: Type.Boolean(),
  checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), message: Type.String() }))
})
export type CoordinatorReady = Static<typeof CoordinatorReadySchema>

/** Options of the health routes. */
export interface HealthRoutesOptions {
  ready: () => Promise<CoordinatorReady>
  metrics: () => Promise<string>
}

const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { ready, metrics }) => {
  app.get('/health/live', {
    logLevel: 'warn',
    config: { access: 'public' },
    schema: { summary: 'Liveness', response: { 200: Type.Object({ ok: Type.Literal(true) }), '5xx': ErrorBodySchema } }
  }, async () => ({ ok: true as const }))

  app.get('/health/ready', {
    logLevel: 'warn',
    config: { access: 'public' },
    schema: { summary: 'Readiness: store open, engine running', response: { 200: CoordinatorReadySchema, 503: CoordinatorReadySchema, '5xx': ErrorBodySchema } }
  }, async (req, reply) => {
    let view: CoordinatorReady
    try {
      view = await ready()
    } catch (err) {
      req.log.error({ err }, 'readiness check failed')
      view = { ok: false, checks: { coordinator: { ok: false, message: 'readiness check failed; see the coordinator log' } } }
    }
    return await reply.code(view.ok ? 200 : 503).send(view)
  })

  app.get('/metrics', {
    logLevel: 'warn',
    config: { access: 'public' },
    schema: { summary: 'Prometheus metrics', produces: [METRICS_CONTENT_TYPE], response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }), '5xx': ErrorBodySchema } }
  }, async (_req, reply) => await reply.type(METRICS_CONTENT_TYPE).send(await metrics()))
}

export default healthRoutes
