// GET /v1/rollouts/:id/events: the rollout's events from `?from=N`, stored ones then live ones,
// as NDJSON (default) or server-sent events (`Accept: text/event-stream`; `id:` is the event's
// index, and a reconnecting EventSource's `Last-Event-ID` resumes after it). Heartbeats keep idle
// streams alive; `?follow=0` ends after the stored events; otherwise the stream ends once the
// rollout is terminal and every event was sent. The same route serves an HSM migration's events
// (routes/hsm-migrations.ts) through {@link eventStreamRoute}.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { TSchema } from 'typebox'
import Type from 'typebox'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { RolloutEventSchema, TERMINAL_ROLLOUT_STATES } from '../../shared/schemas/rollout.js'
import type { BaseApp } from '../../shared/fastify-base.js'
import { NotFoundError } from '../errors.js'
import type { RolloutControl } from '../ports/rollout-control.js'
import { NDJSON, SSE, formatOf, maskRecords, startRecordStream, type MaskedText } from '../../shared/record-stream.js'
import { followEvents, type EventSource, type StreamEvent } from './follow-events.js'
import { RolloutParams } from './params.js'

/** How event streams run: heartbeats, the server's close, the open-stream gauge. */
export interface StreamSettings {
  heartbeatMs: number
  /** Fires when the server closes: endless streams end so close() can finish. */
  closing: AbortSignal
  /** Counts open streams (metrics). */
  onStream?: (delta: 1 | -1) => void
}

/** Options of the event route. */
export interface EventRoutesOptions extends StreamSettings {
  control: Pick<RolloutControl, 'get' | 'events' | 'subscribe'>
}

const EventsQuery = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'first event index to send (default 0)' })),
  follow: Type.Optional(Type.Boolean({ description: '0/false: only the stored events (default true)' }))
}, { additionalProperties: false })

const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'SSE resume: the last index received' }))
})

/** One event-stream route: what it streams and from where. */
export interface EventStreamRoute<E extends StreamEvent> {
  /** e.g. `/v1/rollouts/:id/events` */
  url: string
  summary: string
  /** The event's schema (serialises each record, documents the stream). */
  eventSchema: TSchema
  /** Its name in the OpenAPI description, e.g. RolloutEvent. */
  eventName: string
  /** What `:id` names, for the 404 (`no rollout r9`). */
  what: string
  /** The id's field in log lines (`rollout`, `migration`). */
  logKey: string
  source: EventSource<E>
  terminal: readonly string[]
  stateEvents: readonly string[]
}

/** Registers GET `route.url` (viewer): the events of one thing, stored then live, NDJSON or SSE. */
export function eventStreamRoute<E extends StreamEvent> (app: BaseApp, route: EventStreamRoute<E>, settings: StreamSettings): void {
  // An event's serialised, masked text, by event object: a live event is one object handed to
  // every stream that follows its rollout, so N streams serialise and mask it once, not N times.
  // Events are never changed once stored; an entry lives as long as its event object.
  const texts = new WeakMap<E, MaskedText>()
  app.get(route.url, {
    config: { access: 'viewer' },
    schema: {
      summary: route.summary,
      params: RolloutParams,
      querystring: EventsQuery,
      headers: EventsHeaders,
      produces: [NDJSON, SSE],
      response: {
        200: { description: `one ${route.eventName} per line (NDJSON, \`{}\` heartbeats) or per SSE message`, content: { [NDJSON]: { schema: route.eventSchema }, [SSE]: { schema: route.eventSchema } } },
        '4xx': ErrorBodySchema,
        '5xx': ErrorBodySchema
      }
    }
  }, async (req, reply) => {
    const { id } = req.params
    if (await route.source.get(id) === undefined) throw new NotFoundError(`no ${route.what} ${id}`)
    const lastId = req.headers['last-event-id']
    const from = lastId === undefined ? (req.query.from ?? 0) : Number(lastId) + 1
    const format = formatOf(req.headers.accept)
    const serialize = reply.compileSerializationSchema(route.eventSchema as unknown as Record<string, unknown>)
    const writer = startRecordStream(reply, { format, heartbeatMs: settings.heartbeatMs, abortOn: settings.closing })
    settings.onStream?.(1)
    try {
      await followEvents({
        control: route.source,
        terminal: route.terminal,
        stateEvents: route.stateEvents,
        id,
        from,
        follow: req.query.follow !== false,
        signal: writer.signal,
        checkEveryMs: Math.min(1000, settings.heartbeatMs > 0 ? settings.heartbeatMs : 1000),
        write: async (events: E[]) => {
          // The ones not seen yet (a page of stored events, or a new live one) masked in one pass.
          const fresh = events.filter(e => !texts.has(e))
          maskRecords(fresh.map(e => serialize(e as unknown as Record<string, unknown>))).forEach((m, i) => { texts.set(fresh[i] as E, m) })
          await writer.writeMasked(events.map(e => ({ masked: texts.get(e) as MaskedText, id: e.index })))
        }
      })
    } catch (err) {
      // The 200 is sent: the stream just ends; the client resumes from its last index.
      req.log.warn({ err, [route.logKey]: id }, 'event stream ended by an error')
    } finally {
      settings.onStream?.(-1)
      writer.end()
    }
    return reply
  })
}

const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, opts) => {
  eventStreamRoute(app, {
    url: '/v1/rollouts/:id/events',
    summary: 'The rollout\'s events, stored then live (NDJSON or SSE)',
    eventSchema: RolloutEventSchema,
    eventName: 'RolloutEvent',
    what: 'rollout',
    logKey: 'rollout',
    source: opts.control,
    terminal: TERMINAL_ROLLOUT_STATES,
    stateEvents: ['rollout']
  }, opts)
}

export default eventRoutes
