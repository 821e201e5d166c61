// POST /v1/plans: what a change would do on every node of a cluster, and the hash a rollout must
// quote. The change is validated here (change-body.ts) before any agent is asked.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { ClusterPlanSchema } from '../../shared/schemas/rollout.js'
import { actorOf } from '../auth/auth-hook.js'
import type { RolloutControl } from '../ports/rollout-control.js'
import { CHANGE_MEDIA_TYPES, changeBodyParsers, wireChange } from './change-body.js'
import { ClusterName } from './params.js'

/** Options of the plan route. */
export interface PlanRoutesOptions { control: Pick<RolloutControl, 'plan'> }

export const PlanBodySchema = Type.Object({
  cluster: ClusterName,
  change: Type.Unknown({ description: 'a change spec (ChangeSpec, secrets as { "$secret": … }); or send the YAML spec file as the body with ?cluster=' })
}, { additionalProperties: false })

const planRoutes: FastifyPluginAsyncTypebox<PlanRoutesOptions> = async (app, { control }) => {
  changeBodyParsers(app)
  app.post('/v1/plans', {
    config: { access: 'operator' },
    schema: {
      summary: 'Plan a change on every node of a cluster',
      consumes: CHANGE_MEDIA_TYPES,
      querystring: Type.Object({ cluster: Type.Optional(ClusterName) }, { additionalProperties: false }),
      body: PlanBodySchema,
      response: { 200: ClusterPlanSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req) => await control.plan(req.body.cluster, wireChange(req.body.change), actorOf(req)))
}

export default planRoutes
