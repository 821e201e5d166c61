// GET /v1/rollouts/:id/events: the rollout's events from `?from=N`, stored ones then live ones,
// as NDJSON (default) or server-sent events (`Accept: text/event-stream`; `id:` is the event's
// index, and a reconnecting EventSource's `Last-Event-ID` resumes after it). Heartbeats keep idle
// streams alive; `?follow=0` ends after the stored events; otherwise the stream ends once the
// rollout is terminal and every event was sent.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { RolloutEventSchema, type RolloutEvent } from '../../shared/schemas/rollout.js'
import { NotFoundError } from '../errors.js'
import type { RolloutControl } from '../ports/rollout-control.js'
import { NDJSON, SSE, formatOf, startRecordStream } from '../../shared/record-stream.js'
import { followEvents } from './follow-events.js'
import { RolloutParams } from './params.js'

/** Options of the event route. */
export interface EventRoutesOptions {
  control: Pick<RolloutControl, 'get' | 'events' | 'subscribe'>
  heartbeatMs: number
  /** Fires when the server closes: endless streams end so close() can finish. */
  closing: AbortSignal
  /** Counts open streams (metrics). */
  onStream?: (delta: 1 | -1) => void
}

const EventsQuery = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'first event index to send (default 0)' })),
  follow: Type.Optional(Type.Boolean({ description: '0/false: only the stored events (default true)' }))
}, { additionalProperties: false })

const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'SSE resume: the last index received' }))
})

const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, opts) => {
  app.get('/v1/rollouts/:id/events', {
    config: { access: 'viewer' },
    schema: {
      summary: 'The rollout\'s events, stored then live (NDJSON or SSE)',
      params: RolloutParams,
      querystring: EventsQuery,
      headers: EventsHeaders,
      produces: [NDJSON, SSE],
      response: {
        200: { description: 'one RolloutEvent per line (NDJSON, `{}` heartbeats) or per SSE message', content: { [NDJSON]: { schema: RolloutEventSchema }, [SSE]: { schema: RolloutEventSchema } } },
        '4xx': ErrorBodySchema,
        '5xx': ErrorBodySchema
      }
    }
  }, async (req, reply) => {
    const { id } = req.params
    if (await opts.control.get(id) === undefined) throw new NotFoundError(`no rollout ${id}`)
    const lastId = req.headers['last-event-id']
    const from = lastId === undefined ? (req.query.from ?? 0) : Number(lastId) + 1
    const format = formatOf(req.headers.accept)
    const serialize = reply.compileSerializationSchema(RolloutEventSchema as unknown as Record<string, unknown>)
    const writer = startRecordStream(reply, { format, heartbeatMs: opts.heartbeatMs, abortOn: opts.closing })
    opts.onStream?.(1)
    try {
      await followEvents({
        control: opts.control,
        id,
        from,
        follow: req.query.follow !== false,
        signal: writer.signal,
        checkEveryMs: Math.min(1000, opts.heartbeatMs > 0 ? opts.heartbeatMs : 1000),
        write: async (events: RolloutEvent[]) => { await writer.writeMany(events.map(e => ({ json: serialize(e as unknown as Record<string, unknown>), id: e.index }))) }
      })
    } catch (err) {
      // The 200 is sent: the stream just ends; the client resumes from its last index.
      req.log.warn({ err, rollout: id }, 'event stream ended by an error')
    } finally {
      opts.onStream?.(-1)
      writer.end()
    }
    return reply
  })
}

export default eventRoutes
