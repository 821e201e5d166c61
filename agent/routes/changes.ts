// POST /v1/plan, /v1/apply, /v1/stage and /v1/rollback (the staged change's commit and discard:
// stage.ts). Apply and rollback stream progress as NDJSON (shared/schemas/apply.ts): ApplyEvent
// lines, `{}` heartbeats, then one `{ "result": ApplyResult }` line.
//
// A change is validated here, once, and only a validated Change goes inward: the body is read as
// text, as JSON (`application/json`, secrets as `{ "$secret": … }`) or as the YAML spec file the CLI
// also takes (`application/yaml`, `!secret` tags), and handed to shared/change/parse-change-spec.ts
// with the agent config's defaults for what the change leaves out. Both formats therefore refuse
// the same things (duplicate keys included) with the same 400s, and every problem names the body's
// line and the field path; no message quotes the text (a broken line may hold a secret).
//
// Committing to 200 is deferred (transaction-stream.ts), so a refused change is a plain 4xx.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import Type from 'typebox'
import type { AgentCore } from '../core.js'
import type { Change } from '../../shared/change/change.js'
import { parseChangeSpec, type SpecFormat } from '../../shared/change/parse-change-spec.js'
import type { ChangeDefaults } from '../../shared/change/validate-change.js'
import { RestartPolicySchema } from '../../shared/change/schema.js'
import { ChangeBodyMissingError } from '../errors.js'
import { PlanResultSchema } from '../../shared/schemas/apply.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { StagedChangeSchema } from '../../shared/schemas/staged.js'
import stageRoutes from './stage.js'
import { streamResponses, streamTransaction } from './transaction-stream.js'

/** Options of the change routes. */
export interface ChangeRoutesOptions {
  core: AgentCore
  /** Heartbeat interval of the streams in ms. */
  heartbeatMs: number
  /** Fires when the server is closing; handed to the core so it can wind down an apply. */
  closing: AbortSignal
  /** What a change gets where it is silent (the agent config's verify window). */
  changeDefaults: ChangeDefaults
}

const ChangeBody = Type.Unknown({ description: 'a change spec (shared/change/schema.ts ChangeSpec) as JSON or YAML; validated by the body parser' })
const ApplyQuery = Type.Object({
  check: Type.Optional(Type.Boolean({ description: '1/true: plan only, no writes (Ansible --check)' }))
}, { additionalProperties: false })
const RollbackBody = Type.Union([Type.Object({
  restart: Type.Optional(RestartPolicySchema)
}, { additionalProperties: false }), Type.Null()], { description: 'empty ({} or no body): restart as the rolled-back change was applied; or { "restart": never|on-change|always } to override' })

/** Media types read as a YAML change spec. */
export const YAML_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml']

// Bodies the parsers below turned into a Change: a handler takes nothing else as one.
const parsed = new WeakSet<Change>()

function changeOf (body: unknown): Change {
  if (typeof body === 'object' && body !== null && parsed.has(body as Change)) return body as Change
  throw new ChangeBodyMissingError()
}

/** Plan, apply and stage, in their own scope: only here is a JSON body read as a change spec. */
const specRoutes: FastifyPluginAsyncTypebox<ChangeRoutesOptions> = async (app, opts) => {
  const { core, closing } = opts
  const parser = (format: SpecFormat) => (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    try {
      const change = parseChangeSpec(String(body), format, opts.changeDefaults)
      parsed.add(change)
      done(null, change)
    } catch (err) {
      done(err as Error, undefined)
    }
  }
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parser('json'))
  app.addContentTypeParser(YAML_MEDIA_TYPES, { parseAs: 'string' }, parser('yaml'))

  app.post('/v1/plan', {
    schema: { body: ChangeBody, response: { 200: PlanResultSchema, 400: ErrorBodySchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } }
  }, async (req) => await core.plan(changeOf(req.body)))

  app.post('/v1/apply', {
    schema: { querystring: ApplyQuery, body: ChangeBody, response: streamResponses }
  }, async (req, reply) => {
    const change = changeOf(req.body)
    const check = req.query.check === true
    return await streamTransaction(req, reply, opts.heartbeatMs, async onEvent => await core.apply(change, { check, onEvent, signal: closing }))
  })

  // Refused as an apply is, with a plain 4xx; writes nothing, so no stream.
  app.post('/v1/stage', {
    schema: { body: ChangeBody, response: { 200: StagedChangeSchema, 400: ErrorBodySchema, 409: ErrorBodySchema, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } }
  }, async (req) => await core.stage(changeOf(req.body)))
}

const changeRoutes: FastifyPluginAsyncTypebox<ChangeRoutesOptions> = async (app, opts) => {
  const { core, closing } = opts
  app.register(specRoutes, opts)
  app.register(stageRoutes, { core, heartbeatMs: opts.heartbeatMs, closing })

  app.post('/v1/rollback', {
    schema: { body: Type.Optional(RollbackBody), response: streamResponses }
  }, async (req, reply) => {
    const restart = req.body?.restart
    return await streamTransaction(req, reply, opts.heartbeatMs, async onEvent => await core.rollback({ onEvent, signal: closing, ...(restart === undefined ? {} : { restart }) }))
  })
}

export default changeRoutes
