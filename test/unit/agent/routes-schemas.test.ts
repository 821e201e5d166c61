// The core's results ARE the wire schemas' types (agent/core.ts re-exports them), so they cannot
// drift apart. What is left to check is the journal port: its entry carries more than the API
// shows (messageId, origin), and every field the API shows must exist on the port with the same
// type. The check is compile-time: `tsc --noEmit` fails when the two disagree; the run-time
// assertions make the file a test that reports.
import t from 'tap'
import type { JournalEntry as PortJournalEntry } from '../../../agent/os/journal.js'
import { JournalEntrySchema, type JournalEntry } from '../../../shared/schemas/journal.js'

type Is<A, B> = [A] extends [B] ? true : false
type Shown = { [K in keyof JournalEntry]-?: Is<Pick<PortJournalEntry, K & keyof PortJournalEntry>, Pick<JournalEntry, K>> }

const fields: Shown = { cursor: true, realtimeUs: true, message: true, invocationId: true, pid: true, priority: true, unit: true }

t.test('every journal field the API shows comes from the port with the same type', async t => {
  t.same(Object.keys(fields).sort(), Object.keys(JournalEntrySchema.properties).sort())
  t.ok(Object.values(fields).every(Boolean))
})
