// Encoding and decoding of minkms protobuf messages with the exact bytes Go's protobuf library
// (and protoc) produce. protobufjs alone differs in one place: it writes proto3 scalar fields that
// were set explicitly to their zero value (`id: 0` becomes `40 00`), while Go and protoc omit
// them. encodeMessage therefore drops zero-valued scalar, empty repeated and empty map fields
// before handing the value to protobufjs.
import protobuf from 'protobufjs'
import { MinkmsProtocolError } from './errors.js'
import type { Duration, MessageInput, MessageName, MessageTypes, Timestamp } from './message-types.js'
import { minkmsRoot } from './schema.js'

export type * from './message-types.js'

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, defaults: true, arrays: true, objects: true }
const types = new Map<string, protobuf.Type>()

/** The protobufjs type of a schema message (`minio.kms.<name>`). */
export function messageType (name: MessageName): protobuf.Type {
  let type = types.get(name)
  if (type === undefined) {
    type = minkmsRoot.lookupType(`minio.kms.${name}`)
    types.set(name, type)
  }
  return type
}

/**
 * Serialises `value` as message `name`. Fields left out (or holding proto3 defaults) produce no
 * bytes. Fields the schema does not know are ignored, as protobufjs's fromObject does.
 */
export function encodeMessage<N extends MessageName> (name: N, value: MessageInput<MessageTypes[N]>): Uint8Array {
  const type = messageType(name)
  const pruned = pruneDefaults(type, value as Record<string, unknown>)
  return type.encode(type.fromObject(pruned)).finish()
}

/**
 * Parses `bytes` as message `name`, filling defaults for absent scalar, repeated and map fields.
 * Throws MinkmsProtocolError when the bytes are not a valid encoding.
 */
export function decodeMessage<N extends MessageName> (name: N, bytes: Uint8Array): MessageTypes[N] {
  const type = messageType(name)
  let decoded: protobuf.Message
  try {
    // A plain Uint8Array view, not a Buffer: protobufjs's Buffer reader silently truncates
    // strings that run past the end instead of throwing.
    decoded = type.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  } catch (err) {
    throw new MinkmsProtocolError(`cannot decode ${name}: ${(err as Error).message}`, { cause: err })
  }
  return normalise(type.toObject(decoded, TO_OBJECT)) as MessageTypes[N]
}

/** A Timestamp for a Date (millisecond precision). */
export function timestampFromDate (date: Date): Timestamp {
  const ms = date.getTime()
  const seconds = Math.floor(ms / 1000)
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 }
}

/** The Date of a Timestamp (nanoseconds below a millisecond are dropped). */
export function dateFromTimestamp (ts: Timestamp): Date {
  return new Date(ts.seconds * 1000 + Math.floor(ts.nanos / 1_000_000))
}

/** A Duration for a number of milliseconds. */
export function durationFromMs (ms: number): Duration {
  const seconds = Math.trunc(ms / 1000)
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1_000_000) }
}

/** Milliseconds of a Duration. */
export function msFromDuration (d: Duration): number {
  return d.seconds * 1000 + d.nanos / 1_000_000
}

function pruneDefaults (type: protobuf.Type, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const field of type.fieldsArray) {
    const v = value[field.name]
    if (v === undefined || v === null) continue
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined
    if (field.map) {
      const entries = Object.entries(v as Record<string, unknown>)
      if (entries.length === 0) continue
      // Map values are always written (protoc too), so only nested messages need pruning.
      out[field.name] = sub === undefined
        ? v
        : Object.fromEntries(entries.map(([k, e]) => [k, pruneDefaults(sub, e as Record<string, unknown>)]))
    } else if (field.repeated) {
      const items = v as unknown[]
      if (items.length === 0) continue
      out[field.name] = sub === undefined ? items : items.map(e => pruneDefaults(sub, e as Record<string, unknown>))
    } else if (sub !== undefined) {
      // A set sub-message is written even when all its fields are defaults (explicit presence).
      out[field.name] = pruneDefaults(sub, v as Record<string, unknown>)
    } else if (field.hasPresence || !isZero(v)) {
      out[field.name] = v
    }
  }
  return out
}

function isZero (v: unknown): boolean {
  if (v === 0 || v === '' || v === false || v === 0n) return true
  if (v instanceof Uint8Array) return v.length === 0
  // protobufjs accepts Long-like {low, high} objects for 64-bit fields.
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) return v.low === 0 && v.high === 0
  return false
}

// toObject with `defaults: true` reports absent sub-messages as null; the TS types use absence.
// Bytes become Buffers of their own: decoded from a Uint8Array they would be views that keep the
// whole request or response body alive.
function normalise (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise)
  if (value instanceof Uint8Array) return Buffer.from(value)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (v !== null) out[k] = normalise(v)
  }
  return out
}
