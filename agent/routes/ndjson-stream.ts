// An NDJSON response (progress and journal lines a client can read as they come): one JSON object per line, `{}` heartbeats while idle so dead
// peers are noticed, backpressure honoured, and an AbortSignal that fires when the client goes
// away (or the server closes, for endless streams) so producers such as a journal follower stop
// and release their process. Every line passes the secret-pattern mask before it is written.
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import type { FastifyReply } from 'fastify'
import type { Static, TSchema } from 'typebox'
import { maskSecrets } from '../../shared/logger.js'

/** Media type of the streams. */
export const NDJSON = 'application/x-ndjson'

/** An open NDJSON response. */
export interface NdjsonWriter {
  /** Aborted when the client disconnected (or `abortOn` fired); stop producing then. */
  readonly signal: AbortSignal
  /**
   * Writes one line (already serialised JSON, no newline). Resolves when the stream can take
   * more; never rejects. Lines written after the client left are dropped.
   */
  write: (json: string) => Promise<void>
  /** Ends the response. Idempotent. */
  end: () => void
}

/** Options of {@link startNdjson}. */
export interface NdjsonOptions {
  /** Heartbeat interval in ms; 0 disables. */
  heartbeatMs: number
  /** Also abort (and end) when this fires, e.g. the server is closing. */
  abortOn?: AbortSignal
}

/** Starts a 200 NDJSON response on `reply`. */
export function startNdjson (reply: FastifyReply, opts: NdjsonOptions): NdjsonWriter {
  const out = new PassThrough()
  const ac = new AbortController()
  let ended = false
  const abort = (): void => { ac.abort() }
  reply.raw.once('close', abort)
  opts.abortOn?.addEventListener('abort', abort, { once: true })
  const heartbeat = opts.heartbeatMs > 0 ? setInterval(() => { if (!ac.signal.aborted && !ended) out.write('{}\n') }, opts.heartbeatMs) : undefined

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
    .header('content-type', `${NDJSON}; charset=utf-8`)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .send(out)

  return {
    signal: ac.signal,
    end,
    write: async (json) => {
      if (ended || out.destroyed) return
      if (out.write(`${maskSecrets(json)}\n`)) return
      await once(out, 'drain', { signal: ac.signal }).catch(() => undefined)
    }
  }
}

/**
 * A serialiser for one line type, compiled from its response schema (fast-json-stringify, cached
 * per schema by fastify): only declared fields are written.
 */
export function lineSerializer<S extends TSchema> (reply: FastifyReply, schema: S): (value: Static<S>) => string {
  // fastify types the schema as a plain object; a TypeBox schema is one.
  const fn = reply.compileSerializationSchema(schema as unknown as Record<string, unknown>)
  return value => fn(value as Record<string, unknown>)
}
