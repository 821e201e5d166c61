// POST /v1/plan, /v1/apply and /v1/rollback. Apply and rollback stream progress as NDJSON
// (shared/schemas/apply.ts): ApplyEvent lines, `{}` heartbeats, then one `{ "result": ApplyResult }`
// line.
//
// A change is validated here, once, and only a validated Change goes inward: the body is read as
// text, as JSON (`application/json`, secrets as `{ "$secret": … }`) or as the YAML spec file the CLI
// also takes (`application/yaml`, `!secret` tags), and handed to shared/change/parse-change-spec.ts
// with the agent config's defaults for what the change leaves out. Both formats therefore refuse
// the same things (duplicate keys included) with the same 400s, and every problem names the body's
// line and the field path; no message quotes the text (a broken line may hold a secret).
//
// Committing to 200 is deferred: events are held back until the core shows it got past the steps
// that may still refuse the change (`lock`, `plan`, `validate`: a conflict, a stale revision, an
// invalid result), so those are proper 4xx responses, not a line inside a 200 stream. The first
// event of any later step (backup, write, restart, …, or a skipped write) commits to 200; a
// failure after that arrives as a final `{ "error": ErrorBody }` line.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import type { AgentCore, ApplyResult as CoreApplyResult } from '../core.js'
import type { Change } from '../../shared/change/change.js'
import { parseChangeSpec, type SpecFormat } from '../../shared/change/parse-change-spec.js'
import type { ChangeDefaults } from '../../shared/change/validate-change.js'
import { RestartPolicySchema } from '../../shared/change/schema.js'
import { renderError } from '../../shared/errors.js'
import { ChangeBodyMissingError } from '../errors.js'
import {
  ApplyEventSchema, ApplyResultLineSchema, ApplyStreamLineSchema, PlanResultSchema, StreamErrorLineSchema,
  type ApplyEvent
} from '../../shared/schemas/apply.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { NDJSON, lineSerializer, startNdjson, type NdjsonWriter } from './ndjson-stream.js'

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

const streamResponses = {
  200: { description: 'NDJSON stream', content: { [NDJSON]: { schema: ApplyStreamLineSchema } } },
  400: ErrorBodySchema,
  409: ErrorBodySchema,
  '4xx': ErrorBodySchema,
  '5xx': ErrorBodySchema
}

type Run = (onEvent: (e: ApplyEvent) => void) => Promise<CoreApplyResult>

/** Media types read as a YAML change spec. */
export const YAML_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml']

// Bodies the parsers below turned into a Change: a handler takes nothing else as one.
const parsed = new WeakSet<Change>()

function changeOf (body: unknown): Change {
  if (typeof body === 'object' && body !== null && parsed.has(body as Change)) return body as Change
  throw new ChangeBodyMissingError()
}

/** Plan and apply, in their own scope: only here is a JSON body read as a change spec. */
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
}

const changeRoutes: FastifyPluginAsyncTypebox<ChangeRoutesOptions> = async (app, opts) => {
  const { core, closing } = opts
  app.register(specRoutes, opts)

  app.post('/v1/rollback', {
    schema: { body: Type.Optional(RollbackBody), response: streamResponses }
  }, async (req, reply) => {
    const restart = req.body?.restart
    return await streamTransaction(req, reply, opts.heartbeatMs, async onEvent => await core.rollback({ onEvent, signal: closing, ...(restart === undefined ? {} : { restart }) }))
  })
}

const REFUSING_STEPS: ReadonlySet<ApplyEvent['step']> = new Set(['lock', 'plan', 'validate'])

/** True once an event shows the transaction is past every step that may refuse the change. */
function accepted (e: ApplyEvent): boolean {
  return !REFUSING_STEPS.has(e.step)
}

async function streamTransaction (req: FastifyRequest, reply: FastifyReply, heartbeatMs: number, run: Run): Promise<FastifyReply> {
  const eventLine = lineSerializer(reply, ApplyEventSchema)
  const resultLine = lineSerializer(reply, ApplyResultLineSchema)
  const errorLine = lineSerializer(reply, StreamErrorLineSchema)

  const held: ApplyEvent[] = []
  const stream: { writer?: NdjsonWriter } = {}
  let onAccepted: () => void = () => {}
  const acceptedSignal = new Promise<'accepted'>(resolve => { onAccepted = () => { resolve('accepted') } })
  const onEvent = (e: ApplyEvent): void => {
    if (stream.writer !== undefined) {
      // Ordered: write() queues synchronously; it never rejects.
      stream.writer.write(eventLine(e)).catch(() => undefined)
      return
    }
    held.push(e)
    if (accepted(e)) onAccepted()
  }

  const result = Promise.resolve().then(async () => await run(onEvent))
  const first = await Promise.race([result.then(() => 'settled' as const, () => 'settled' as const), acceptedSignal])
  // Settled before it was accepted: a rejection becomes a plain error response (409/400/5xx).
  if (first === 'settled') await result

  const writer = stream.writer = startNdjson(reply, { heartbeatMs })
  for (const e of held) await writer.write(eventLine(e))
  try {
    const r = await result
    req.log.info({ result: r.result, revision: r.revision, failedStep: r.failedStep }, 'transaction finished')
    await writer.write(resultLine({ result: r }))
  } catch (err) {
    await writer.write(errorLine({ error: renderError(err, req).body }))
  } finally {
    writer.end()
  }
  return reply
}

export default changeRoutes
