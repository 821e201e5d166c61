// GET /v1/journal?after=CURSOR&follow=1&limit=N: the managed unit's journal as NDJSON, one
// JournalEntry per line; each carries its cursor so a client can resume with ?after=. Without
// follow it returns what is there (default 100 entries); with follow it keeps streaming until the
// client disconnects or the server closes, which aborts the follower (R14: that also ends its
// journalctl process). The banner's `API Key` line is served with the key in its safe form
// (`k1:*** (h1:…)`, shared/minkms/journal-lines.ts): the coordinator sees a changed root identity,
// never the key.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AgentCore } from '../core.js'
import type { JournalEntry as PortEntry } from '../os/journal.js'
import { journalCursorProblem } from '../os/journal-cursor.js'
import { RequestValidationError, renderError } from '../../shared/errors.js'
import { withSafeApiKey } from '../../shared/minkms/journal-lines.js'
import { StreamErrorLineSchema } from '../../shared/schemas/apply.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { JournalEntrySchema, JournalQuerySchema, type JournalEntry } from '../../shared/schemas/journal.js'
import { NDJSON, lineSerializer, startNdjson } from './ndjson-stream.js'

/** Options of the journal route. */
export interface JournalRoutesOptions {
  core: AgentCore
  heartbeatMs: number
  /** Fires when the server is closing: followers end so close() does not wait for clients. */
  closing: AbortSignal
}

/** Entries returned without follow when no limit is given. */
export const DEFAULT_JOURNAL_LIMIT = 100

const journalRoutes: FastifyPluginAsyncTypebox<JournalRoutesOptions> = async (app, { core, heartbeatMs, closing }) => {
  app.get('/v1/journal', {
    schema: {
      querystring: JournalQuerySchema,
      response: {
        200: { description: 'NDJSON stream', content: { [NDJSON]: { schema: JournalEntrySchema } } },
        400: ErrorBodySchema,
        '4xx': ErrorBodySchema,
        '5xx': ErrorBodySchema
      }
    }
  }, async (req, reply) => {
    const { after, follow, limit } = req.query
    // A cursor journald cannot read is the client's mistake (400), not journalctl's failure (502).
    const cursorProblem = after === undefined ? undefined : journalCursorProblem(after)
    if (cursorProblem !== undefined) throw new RequestValidationError(`querystring.after: ${cursorProblem}`)
    const entryLine = lineSerializer(reply, JournalEntrySchema)
    const unit = core.unit
    // Without follow, read first: a failure is still a proper error response.
    const entries = follow === true
      ? undefined
      : await core.journal.read({ unit, limit: limit ?? DEFAULT_JOURNAL_LIMIT, ...(after === undefined ? {} : { afterCursor: after }) })

    const writer = startNdjson(reply, { heartbeatMs: follow === true ? heartbeatMs : 0, abortOn: closing })
    try {
      const source = entries ?? core.journal.follow({ unit, signal: writer.signal, ...(after === undefined ? {} : { afterCursor: after }) })
      let n = 0
      for await (const e of source) {
        if (writer.signal.aborted) break
        await writer.write(entryLine(view(e)))
        if (limit !== undefined && ++n >= limit) break
      }
    } catch (err) {
      if (!writer.signal.aborted) await writer.write(lineSerializer(reply, StreamErrorLineSchema)({ error: renderError(err, req).body }))
    } finally {
      writer.end()
    }
    return reply
  })
}

function view (e: PortEntry): JournalEntry {
  return {
    cursor: e.cursor,
    realtimeUs: e.realtimeUs,
    message: withSafeApiKey(e.message),
    ...(e.invocationId === undefined ? {} : { invocationId: e.invocationId }),
    ...(e.pid === undefined ? {} : { pid: e.pid }),
    ...(e.priority === undefined ? {} : { priority: e.priority }),
    ...(e.unit === undefined ? {} : { unit: e.unit })
  }
}

export default journalRoutes
