// HSM migrations: start one (POST /v1/hsm-migrations: 201 with the migration, or 200 with a dry
// run's findings), list, read one, steer it (pause, resume, abort) and follow its events (the
// rollout event stream's code, routes/events.ts). The orchestrator's refusals pass through as
// they are (404 unknown cluster, 409 busy cluster or a steer the state forbids).
//
// Secrets: the admin key arrives as `{ "$secret": … }` (or plain) and is wrapped into a Secret
// here, so nothing past this edge can print it; no line logged here names it or the body. The
// generated API key leaves only in the answer of a start that asked for it (`revealApiKey`),
// which no cache may keep.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import {
  HsmMigrationEventSchema, HsmMigrationRequestSchema, HsmMigrationResumeSchema, HsmMigrationSchema, HsmMigrationStartAnswerSchema, TERMINAL_HSM_MIGRATION_STATES,
  type HsmMigrationRequest
} from '../../shared/schemas/hsm-migration.js'
import { Secret } from '../../shared/secrets/secret.js'
import { actorOf } from '../auth/auth-hook.js'
import { checkedExternalServers } from '../../shared/minkms/external-servers.js'
import { NotFoundError } from '../errors.js'
import type { HsmMigrationControl, HsmMigrationStart } from '../ports/hsm-migration-control.js'
import { eventStreamRoute, type StreamSettings } from './events.js'
import { checkStrategy } from './rollouts.js'
import { ClusterName, Limit, RolloutParams } from './params.js'

/** Options of the HSM migration routes. */
export interface HsmMigrationRoutesOptions extends StreamSettings { migrations: HsmMigrationControl }

type Steer = 'pause' | 'resume' | 'abort'
const STEER_SUMMARY: Record<Steer, string> = {
  pause: 'Pause the HSM migration after the node in flight (or before its next phase)',
  resume: 'Resume a paused HSM migration, or a failed one once its cause is fixed (nodes done are not touched again; a failed one may switch its phase B mode)',
  abort: 'Stop the HSM migration after the node in flight; nodes not reached stay as they are'
}

/** The request as the port takes it: the admin key wrapped, the flags defaulted. */
export function migrationStart (body: HsmMigrationRequest, actor: string): HsmMigrationStart {
  const { adminKey, strategy } = body
  checkStrategy(strategy)
  return {
    cluster: body.cluster,
    // Checked here, before anything is stored or provisioned (shared/minkms/external-servers.ts).
    external: checkedExternalServers(body.external),
    enclave: body.enclave,
    key: body.key,
    adminKey: new Secret(typeof adminKey === 'string' ? adminKey : adminKey.$secret),
    keepLocalHsm: body.keepLocalHsm === true,
    replaceHsm: body.replaceHsm === true,
    removeLocalSealedCopy: body.removeLocalSealedCopy === true,
    phaseB: body.phaseB ?? 'rolling',
    allowWriteOutage: body.allowWriteOutage === true,
    dryRun: body.dryRun === true,
    revealApiKey: body.revealApiKey === true,
    ...(strategy === undefined ? {} : { strategy }),
    actor
  }
}

const hsmMigrationRoutes: FastifyPluginAsyncTypebox<HsmMigrationRoutesOptions> = async (app, opts) => {
  const { migrations } = opts

  app.post('/v1/hsm-migrations', {
    config: { access: 'operator' },
    schema: {
      summary: 'Start an HSM migration onto an external Key Manager (or dry-run it)',
      body: HsmMigrationRequestSchema,
      response: {
        200: { ...HsmMigrationStartAnswerSchema, description: 'dry run: `{ dryRun }`, nothing touched, nothing stored' },
        201: { ...HsmMigrationStartAnswerSchema, description: '`{ migration }` (and `apiKey`, once, with revealApiKey); Location: /v1/hsm-migrations/:id' },
        '4xx': ErrorBodySchema,
        '5xx': ErrorBodySchema
      }
    }
  }, async (req, reply) => {
    const start = migrationStart(req.body, actorOf(req))
    const answer = await migrations.start(start)
    if (answer.apiKey !== undefined) reply.header('cache-control', 'no-store')
    const m = answer.migration
    if (m === undefined) {
      req.log.info({ cluster: start.cluster, dryRun: true, ok: answer.dryRun?.ok }, 'HSM migration dry run')
      return await reply.code(200).send(answer)
    }
    req.log.info({ migration: m.id, cluster: m.cluster, external: m.external, keepLocalHsm: m.keepLocalHsm, replaceHsm: m.replaceHsm, phaseB: m.phaseB }, 'HSM migration started')
    return await reply.code(201).header('location', `/v1/hsm-migrations/${encodeURIComponent(m.id)}`).send(answer)
  })

  app.get('/v1/hsm-migrations', {
    config: { access: 'viewer' },
    schema: {
      summary: 'HSM migrations, newest first',
      querystring: Type.Object({ cluster: Type.Optional(ClusterName), limit: Type.Optional(Limit) }, { additionalProperties: false }),
      response: { 200: Type.Array(HsmMigrationSchema), '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req) => await migrations.list({ ...(req.query.cluster === undefined ? {} : { cluster: req.query.cluster }), limit: req.query.limit ?? 100 }))

  app.get('/v1/hsm-migrations/:id', {
    config: { access: 'viewer' },
    schema: { summary: 'One HSM migration', params: RolloutParams, response: { 200: HsmMigrationSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } }
  }, async (req) => {
    const m = await migrations.get(req.params.id)
    if (m === undefined) throw new NotFoundError(`no HSM migration ${req.params.id}`)
    return m
  })

  for (const steer of ['pause', 'abort'] as const) {
    app.post(`/v1/hsm-migrations/:id/${steer}`, {
      config: { access: 'operator' },
      schema: { summary: STEER_SUMMARY[steer], params: RolloutParams, response: { 200: HsmMigrationSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } }
    }, async (req) => {
      const m = await migrations[steer](req.params.id, actorOf(req))
      req.log.info({ migration: m.id, steer, state: m.state }, 'HSM migration steered')
      return m
    })
  }

  // Resume takes an optional body: a failed migration may go on with the other phase B mode.
  app.post('/v1/hsm-migrations/:id/resume', {
    config: { access: 'operator' },
    schema: {
      summary: STEER_SUMMARY.resume,
      params: RolloutParams,
      body: Type.Optional(Type.Union([HsmMigrationResumeSchema, Type.Null()], { description: 'empty, or `{ "phaseB": "all-at-once", "allowWriteOutage": true }` to go on with the other phase B mode (a failed migration whose phase B has not completed)' })),
      response: { 200: HsmMigrationSchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req) => {
    const body = req.body ?? {}
    const m = await migrations.resume(req.params.id, actorOf(req), {
      ...(body.phaseB === undefined ? {} : { phaseB: body.phaseB }),
      ...(body.allowWriteOutage === undefined ? {} : { allowWriteOutage: body.allowWriteOutage })
    })
    req.log.info({ migration: m.id, steer: 'resume', state: m.state, phaseB: m.phaseB }, 'HSM migration steered')
    return m
  })

  eventStreamRoute(app, {
    url: '/v1/hsm-migrations/:id/events',
    summary: 'The HSM migration\'s events (its own and its phases\' rollouts\'), stored then live (NDJSON or SSE)',
    eventSchema: HsmMigrationEventSchema,
    eventName: 'HsmMigrationEvent',
    what: 'HSM migration',
    logKey: 'migration',
    source: migrations,
    terminal: TERMINAL_HSM_MIGRATION_STATES,
    // Forwarded `rollout` events end a phase's rollout, not the migration: only `migration` ones count.
    stateEvents: ['migration']
  }, opts)
}

export default hsmMigrationRoutes
