// A long response of JSON records, as NDJSON (one object per line, `{}` heartbeats) or as
// server-sent events (`id: <n>` + `data: <json>`, `: heartbeat` comments), whichever the client
// asked for. Backpressure is honoured, every record passes the secret-pattern mask, and `signal`
// aborts when the client goes away or the server closes, so producers stop.
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { maskSecrets } from '../../shared/logger.js'

export const NDJSON = 'application/x-ndjson'
export const SSE = 'text/event-stream'

/** An open stream. */
export interface EventWriter {
  /** Aborted when the client disconnected or the server closes. */
  readonly signal: AbortSignal
  /** Writes one record (serialised JSON) with its id; resolves when the stream takes more. Never rejects. */
  write: (json: string, id: number) => Promise<void>
  /** Ends the response. Idempotent. */
  end: () => void
}

/** Options of {@link startEventStream}. */
export interface EventStreamOptions {
  format: 'ndjson' | 'sse'
  /** Heartbeat interval in ms; 0 disables. */
  heartbeatMs: number
  /** Also abort when this fires (server closing). */
  abortOn?: AbortSignal
}

/** Starts a 200 stream on `reply`. */
export function startEventStream (reply: FastifyReply, opts: EventStreamOptions): EventWriter {
  const out = new PassThrough()
  const ac = new AbortController()
  let ended = false
  const abort = (): void => { ac.abort() }
  reply.raw.once('close', abort)
  opts.abortOn?.addEventListener('abort', abort, { once: true })
  const beat = opts.format === 'sse' ? ': heartbeat\n\n' : '{}\n'
  const heartbeat = opts.heartbeatMs > 0 ? setInterval(() => { if (!ended) out.write(beat) }, opts.heartbeatMs) : undefined
  const end = (): void => {
    if (ended) return
    ended = true
    clearInterval(heartbeat)
    opts.abortOn?.removeEventListener('abort', abort)
    out.end()
  }
  ac.signal.addEventListener('abort', end, { once: true })
  // The head goes out at once: a follower with nothing to say yet still sees its 200.
  reply.raw.once('pipe', () => { if (!reply.raw.headersSent) reply.raw.flushHeaders() })
  reply.code(200)
    .header('content-type', `${opts.format === 'sse' ? SSE : NDJSON}; charset=utf-8`)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('x-accel-buffering', 'no')
    .send(out)
  return {
    signal: ac.signal,
    end,
    write: async (json, id) => {
      if (ended || out.destroyed) return
      const masked = maskSecrets(json)
      const text = opts.format === 'sse' ? `id: ${id}\ndata: ${masked}\n\n` : `${masked}\n`
      if (out.write(text)) return
      await once(out, 'drain', { signal: ac.signal }).catch(() => undefined)
    }
  }
}

/** The format a request asks for: SSE when its Accept names text/event-stream, else NDJSON. */
export function formatOf (accept: string | undefined): 'ndjson' | 'sse' {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept) ? 'sse' : 'ndjson'
}
