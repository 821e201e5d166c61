// Rollouts: start one (POST /v1/rollouts, 201), list, read one, and steer it (pause, resume,
// abort, promote, rollback). The engine's refusals pass through as they are: 409 for a busy
// cluster, a plan hash that no longer matches, an unhealthy node, or a step the state forbids.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { RequestValidationError } from '../../shared/errors.js'
import { RolloutSchema, StrategySchema, type Strategy } from '../../shared/schemas/rollout.js'
import { strategyProblems } from '../engine/strategy.js'
import { actorOf } from '../auth/auth-hook.js'
import { NotFoundError } from '../errors.js'
import type { RolloutControl } from '../ports/rollout-control.js'
import { CHANGE_MEDIA_TYPES, changeBodyParsers, wireChange } from './change-body.js'
import { ClusterName, Limit, RolloutParams } from './params.js'

/** Options of the rollout routes. */
export interface RolloutRoutesOptions { control: RolloutControl }

export const StartBodySchema = Type.Object({
  cluster: ClusterName,
  change: Type.Unknown({ description: 'the change planned (ChangeSpec, secrets as { "$secret": … }); or the YAML spec file as the body with ?cluster=&planHash=' }),
  planHash: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9:_-]+$', description: 'planHash of POST /v1/plans for this cluster and change' }),
  strategy: Type.Optional(StrategySchema)
}, { additionalProperties: false })

/** Refuses (400) strategy durations the engine cannot honour (engine/strategy.ts), before anything is asked. */
export function checkStrategy (strategy: Strategy | undefined): void {
  const problems = strategyProblems(strategy)
  if (problems.length > 0) throw new RequestValidationError(problems.map(p => `body.strategy.${p.field}: ${p.message}`).join('; '))
}

const STEERS = ['pause', 'resume', 'abort', 'promote', 'rollback'] as const
const STEER_SUMMARY: Record<typeof STEERS[number], string> = {
  pause: 'Pause after the steps in flight',
  resume: 'Resume a paused rollout',
  abort: 'Stop after the steps in flight; nodes not reached stay untouched',
  promote: 'Go on after the canary node',
  rollback: 'Roll every node the rollout changed back, one at a time'
}

/** Start, steer: operator; body parsers for changes in their own scope. */
const startRoute: FastifyPluginAsyncTypebox<RolloutRoutesOptions> = async (app, { control }) => {
  changeBodyParsers(app)
  app.post('/v1/rollouts', {
    config: { access: 'operator' },
    schema: {
      summary: 'Start a rollout of a planned change',
      consumes: CHANGE_MEDIA_TYPES,
      querystring: Type.Object({ cluster: Type.Optional(ClusterName), planHash: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }),
      body: StartBodySchema,
      response: { 201: RolloutSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req, reply) => {
    const { cluster, change, planHash, strategy } = req.body
    checkStrategy(strategy)
    const rollout = await control.start({ cluster, change: wireChange(change), planHash, actor: actorOf(req), ...(strategy === undefined ? {} : { strategy }) })
    req.log.info({ rollout: rollout.id, cluster, planHash }, 'rollout started')
    return await reply.code(201).header('location', `/v1/rollouts/${encodeURIComponent(rollout.id)}`).send(rollout)
  })
}

const rolloutRoutes: FastifyPluginAsyncTypebox<RolloutRoutesOptions> = async (app, opts) => {
  const { control } = opts
  app.register(startRoute, opts)

  app.get('/v1/rollouts', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Rollouts, newest first',
      querystring: Type.Object({ cluster: Type.Optional(ClusterName), limit: Type.Optional(Limit) }, { additionalProperties: false }),
      response: { 200: Type.Array(RolloutSchema), '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req) => await control.list({ ...(req.query.cluster === undefined ? {} : { cluster: req.query.cluster }), limit: req.query.limit ?? 100 }))

  app.get('/v1/rollouts/:id', {
    config: { access: 'viewer' },
    schema: { summary: 'One rollout', params: RolloutParams, response: { 200: RolloutSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } }
  }, async (req) => {
    const r = await control.get(req.params.id)
    if (r === undefined) throw new NotFoundError(`no rollout ${req.params.id}`)
    return r
  })

  for (const steer of STEERS) {
    app.post(`/v1/rollouts/:id/${steer}`, {
      config: { access: 'operator' },
      schema: { summary: STEER_SUMMARY[steer], params: RolloutParams, response: { 200: RolloutSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } }
    }, async (req) => {
      const r = await control[steer](req.params.id, actorOf(req))
      req.log.info({ rollout: r.id, steer, state: r.state }, 'rollout steered')
      return r
    })
  }
}

export default rolloutRoutes
