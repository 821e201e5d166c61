// Liveness and readiness, kept apart on purpose. /health/live proves only that the event loop turns: it must
// not depend on systemd, the journal or the coordinator, or a sick minkms would get the agent
// restarted in a loop. /health/ready is 200 only when the core says its machinery works.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AgentCore } from '../core.js'
import { LiveViewSchema, ReadyViewSchema, type ReadyView } from '../../shared/schemas/agent-status.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'

/** Options of the health routes. */
export interface HealthRoutesOptions { core: AgentCore }

const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { core }) => {
  // Polled every few seconds: keep the request log quiet (platformatic's `quiet`).
  app.get('/health/live', {
    logLevel: 'warn',
    schema: { response: { 200: LiveViewSchema, '5xx': ErrorBodySchema } }
  }, async () => ({ ok: true as const }))

  app.get('/health/ready', {
    logLevel: 'warn',
    schema: { response: { 200: ReadyViewSchema, 503: ReadyViewSchema, '5xx': ErrorBodySchema } }
  }, async (req, reply) => {
    let view: ReadyView
    try {
      const r = await core.ready()
      view = { ok: r.ok, checks: r.checks }
    } catch (err) {
      req.log.error({ err }, 'readiness check failed')
      const failed = { ok: false, message: 'readiness check failed; see the agent log' }
      view = { ok: false, checks: { config: failed, unit: failed, journal: failed } }
    }
    return await reply.code(view.ok ? 200 : 503).send(view)
  })
}

export default healthRoutes
