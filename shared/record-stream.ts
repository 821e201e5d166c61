// A long response of JSON records, as NDJSON (one object per line, `{}` heartbeats) or as
// server-sent events (`id: <n>` + `data: <json>`, `: heartbeat` comments): the agent's apply
// progress and journal follow, the coordinator's rollout events. Heartbeats while idle so dead
// peers are noticed, backpressure honoured, every record passed through the secret-pattern mask
// before it is written, and `signal` aborted when the client goes away (or `abortOn` fires, for
// endless streams when the server closes) so producers such as a journal follower stop.
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { maskSecrets } from './logger.js'

/** Media types of the streams. */
export const NDJSON = 'application/x-ndjson'
export const SSE = 'text/event-stream'

/** An open stream. */
export interface RecordWriter {
  /** Aborted when the client disconnected or `abortOn` fired; stop producing then. */
  readonly signal: AbortSignal
  /**
   * Writes one record (serialised JSON, no newline) with its id (SSE only). Resolves when the
   * stream can take more; never rejects. Records written after the client left are dropped.
   */
  write: (json: string, id?: number) => Promise<void>
  /** Ends the response. Idempotent. */
  end: () => void
}

/** Options of {@link startRecordStream}. */
export interface RecordStreamOptions {
  format: 'ndjson' | 'sse'
  /** Heartbeat interval in ms; 0 disables. */
  heartbeatMs: number
  /** Also abort (and end) when this fires, e.g. the server is closing. */
  abortOn?: AbortSignal
}

/** Starts a 200 stream on `reply`. */
export function startRecordStream (reply: FastifyReply, opts: RecordStreamOptions): RecordWriter {
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
  // Node sends the head with the first body byte; a follower with nothing to say yet must still
  // let its client see the 200, so the head goes out as soon as fastify pipes the stream.
  reply.raw.once('pipe', () => { if (!reply.raw.headersSent) reply.raw.flushHeaders() })
  reply.code(200)
    .header('content-type', `${opts.format === 'sse' ? SSE : NDJSON}; charset=utf-8`)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    // A proxy in front (nginx) must pass each record on as it comes, not buffer the stream.
    .header('x-accel-buffering', 'no')
    .send(out)
  return {
    signal: ac.signal,
    end,
    write: async (json, id = 0) => {
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
