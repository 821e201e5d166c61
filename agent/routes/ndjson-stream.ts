// The agent's streams (apply progress, journal follow) are NDJSON: the shared record stream
// (shared/record-stream.ts: heartbeats, backpressure, the secret mask, abort on disconnect) in
// that one format, and a serialiser per line type from its response schema.
import type { FastifyReply } from 'fastify'
import type { Static, TSchema } from 'typebox'
import { NDJSON, startRecordStream, type RecordWriter } from '../../shared/record-stream.js'

export { NDJSON }

/** An open NDJSON response: one JSON line per write. */
export type NdjsonWriter = Omit<RecordWriter, 'write' | 'writeMany' | 'writeMasked'> & { write: (json: string) => Promise<void> }

/** Options of {@link startNdjson}. */
export interface NdjsonOptions {
  /** Heartbeat interval in ms; 0 disables. */
  heartbeatMs: number
  /** Also abort (and end) when this fires, e.g. the server is closing. */
  abortOn?: AbortSignal
}

/** Starts a 200 NDJSON response on `reply`. */
export function startNdjson (reply: FastifyReply, opts: NdjsonOptions): NdjsonWriter {
  const w = startRecordStream(reply, { format: 'ndjson', ...opts })
  return { signal: w.signal, end: w.end, write: async (json) => { await w.write(json) } }
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
