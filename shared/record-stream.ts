// A long response of JSON records, as NDJSON (one object per line, `{}` heartbeats) or as
// server-sent events (`id: <n>` + `data: <json>`, `: heartbeat` comments): the agent's apply
// progress and journal follow, the coordinator's rollout events. Heartbeats while idle so dead
// peers are noticed, backpressure honoured, every record passed through the secret-pattern mask
// before it is written, and `signal` aborted when the client goes away (or `abortOn` fires, for
// endless streams when the server closes) so producers such as a journal follower stop.
// Records that are ready together (a page of stored events) go out as one write: one chunk
// through the socket and TLS instead of one per record, and one pass of the mask. A record sent
// on many streams (a live event to every follower) can be masked once ({@link maskRecords}) and
// written already masked ({@link RecordWriter.writeMasked}): only this module makes a masked text.
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { maskSecrets } from './logger.js'

/** Media types of the streams. */
export const NDJSON = 'application/x-ndjson'
export const SSE = 'text/event-stream'

declare const maskedBrand: unique symbol
/** A record's JSON through the secret-pattern mask; only {@link maskRecords} makes one. */
export type MaskedText = string & { readonly [maskedBrand]: true }

/** Masks serialised records (no newline in them, as from a serializer) for {@link RecordWriter.writeMasked}. */
export function maskRecords (jsons: readonly string[]): MaskedText[] {
  return jsons.length === 0 ? [] : maskEach(jsons) as MaskedText[]
}

/** An open stream. */
export interface RecordWriter {
  /** Aborted when the client disconnected or `abortOn` fired; stop producing then. */
  readonly signal: AbortSignal
  /**
   * Writes one record (serialised JSON, no newline) with its id (SSE only). Resolves when the
   * stream can take more; never rejects. Records written after the client left are dropped.
   */
  write: (json: string, id?: number) => Promise<void>
  /**
   * Writes the records in order as one chunk, then as {@link write}. A client sees the same bytes
   * as from one `write` per record.
   */
  writeMany: (records: ReadonlyArray<{ json: string, id?: number }>) => Promise<void>
  /** As {@link writeMany}, for records masked already. */
  writeMasked: (records: ReadonlyArray<{ masked: MaskedText, id?: number }>) => Promise<void>
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
  const writeMasked = async (records: ReadonlyArray<{ masked: MaskedText, id?: number }>): Promise<void> => {
    if (ended || out.destroyed || records.length === 0) return
    const text = opts.format === 'sse'
      ? records.map(r => `id: ${r.id ?? 0}\ndata: ${r.masked}\n\n`).join('')
      : records.map(r => `${r.masked}\n`).join('')
    if (out.write(text)) return
    await once(out, 'drain', { signal: ac.signal }).catch(() => undefined)
  }
  const writeMany = async (records: ReadonlyArray<{ json: string, id?: number }>): Promise<void> => {
    if (ended || out.destroyed || records.length === 0) return
    const masked = maskRecords(records.map(r => r.json))
    await writeMasked(records.map((r, i) => ({ masked: masked[i] as MaskedText, ...(r.id === undefined ? {} : { id: r.id }) })))
  }
  return {
    signal: ac.signal,
    end,
    writeMany,
    writeMasked,
    write: async (json, id = 0) => { await writeMany([{ json, id }]) }
  }
}

// The mask over each record. Records hold no newline (serialised JSON) and no secret pattern can
// match across one (a key is letters, digits and a few signs after a boundary), so records joined
// by newlines are masked in one pass with the same result; a record with a newline in it (never
// from a serializer, but the type allows it) is masked on its own.
function maskEach (jsons: readonly string[]): string[] {
  if (jsons.length === 1 || jsons.some(j => j.includes('\n'))) return jsons.map(j => maskSecrets(j))
  return maskSecrets(jsons.join('\n')).split('\n')
}

/** The format a request asks for: SSE when its Accept names text/event-stream, else NDJSON. */
export function formatOf (accept: string | undefined): 'ndjson' | 'sse' {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept) ? 'sse' : 'ndjson'
}
