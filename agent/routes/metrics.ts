// GET /metrics: the Prometheus text exposition the core renders from its registry
// (agent/metrics.ts). Scraped every few seconds, so the request log stays quiet.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import type { AgentCore } from '../core.js'
import { METRICS_CONTENT_TYPE } from '../metrics.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'

/** Options of the metrics route. */
export interface MetricsRoutesOptions { core: AgentCore }

const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (app, { core }) => {
  app.get('/metrics', {
    logLevel: 'warn',
    schema: { response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }), '5xx': ErrorBodySchema } }
  }, async (_req, reply) => await reply.type(METRICS_CONTENT_TYPE).send(await core.metrics()))
}

export default metricsRoutes
