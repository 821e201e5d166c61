// Turning one line of `journalctl -o json` into a JournalEntry. journalctl's JSON is not plain
// strings: a value that is not valid UTF-8 or holds control characters (an ANSI colour, a NUL)
// is an array of byte values; a field set several times is an array of values; a value over
// 4096 bytes is null unless `--all` is given (the adapter passes it). All measured on 252.
import type { JournalEntry } from './journal.js'

type Json = Record<string, unknown>

/** A field's value as text: strings as they are, byte arrays decoded as UTF-8, the first of many. */
export function fieldText (v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (!Array.isArray(v)) return undefined
  if (v.every((x) => typeof x === 'number')) return Buffer.from(v as number[]).toString('utf8')
  return v.length > 0 ? fieldText(v[0]) : undefined
}

function fieldInt (v: unknown): number | undefined {
  const t = fieldText(v)
  if (t === undefined || !/^\d+$/.test(t)) return undefined
  return Number(t)
}

/** `minkms` → `minkms.service`, as `journalctl -u` and systemd spell it. */
export function fullUnitName (unit: string): string {
  return /\.[a-z]+$/.test(unit) ? unit : `${unit}.service`
}

/**
 * Parses one NDJSON line. `unit` (full name) decides who wrote the entry: the unit's own
 * processes have _SYSTEMD_UNIT = unit; systemd's messages about it come from PID 1 (in
 * `init.scope`) with UNIT = unit and the run in INVOCATION_ID; `journalctl -u` also matches
 * COREDUMP_UNIT/OBJECT_SYSTEMD_UNIT entries written by other processes, whose own invocation
 * id must not be taken for the unit's. Returns undefined for a line that is not an entry.
 */
export function parseJournalLine (line: string, unit: string): JournalEntry | undefined {
  let j: unknown
  try {
    j = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return undefined
  const o = j as Json
  const cursor = fieldText(o.__CURSOR)
  const realtimeUs = fieldInt(o.__REALTIME_TIMESTAMP)
  if (cursor === undefined || realtimeUs === undefined) return undefined
  const ownUnit = fieldText(o._SYSTEMD_UNIT)
  const aboutUnit = fieldText(o.UNIT)
  const entry: JournalEntry = { cursor, realtimeUs, message: fieldText(o.MESSAGE) ?? '' }
  let invocationId: string | undefined
  if (ownUnit === unit) {
    entry.origin = 'unit'
    entry.unit = ownUnit
    invocationId = fieldText(o._SYSTEMD_INVOCATION_ID)
  } else if (aboutUnit === unit) {
    entry.origin = 'manager'
    entry.unit = aboutUnit
    invocationId = fieldText(o.INVOCATION_ID)
  } else {
    entry.origin = 'other'
    const u = ownUnit ?? aboutUnit
    if (u !== undefined) entry.unit = u
  }
  if (invocationId !== undefined && invocationId !== '') entry.invocationId = invocationId
  const pid = fieldInt(o._PID)
  if (pid !== undefined) entry.pid = pid
  const priority = fieldInt(o.PRIORITY)
  if (priority !== undefined) entry.priority = priority
  const messageId = fieldText(o.MESSAGE_ID)
  if (messageId !== undefined && messageId !== '') entry.messageId = messageId
  return entry
}
