// Journal entries of the managed unit, one NDJSON line each (GET /v1/journal).
import Type, { type Static } from 'typebox'

/** One journal entry (agent/os/journal.ts JournalEntry). */
export const JournalEntrySchema = Type.Object({
  cursor: Type.String({ description: '__CURSOR: pass it as ?after= to resume' }),
  realtimeUs: Type.Integer({ description: '__REALTIME_TIMESTAMP, microseconds since the epoch' }),
  message: Type.String(),
  invocationId: Type.Optional(Type.String()),
  pid: Type.Optional(Type.Integer()),
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 })),
  unit: Type.Optional(Type.String())
})
export type JournalEntry = Static<typeof JournalEntrySchema>

/** A journald cursor: `key=hex` fields joined by `;`. */
export const JOURNAL_CURSOR_PATTERN = '^[a-z]=[0-9a-f]+(?:;[a-z]=[0-9a-f]+)*$'

/** Query of GET /v1/journal. */
export const JournalQuerySchema = Type.Object({
  // journald's cursor syntax (`s=…;i=…;b=…;m=…;t=…;x=…`, hex values), checked here so nothing
  // else (an option such as --help, a NUL, free text) ever reaches journalctl's command line.
  after: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: JOURNAL_CURSOR_PATTERN, description: 'cursor of the last entry seen (exclusive), as a JournalEntry carries it' })),
  follow: Type.Optional(Type.Boolean({ description: '1/true: keep streaming new entries until the client disconnects' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'at most this many entries (default 100 without follow)' }))
}, { additionalProperties: false })
export type JournalQuery = Static<typeof JournalQuerySchema>
