// The coordinator's own reading of the journal beside the agent's verdict: a table of journals
// and verdicts, each with the judgement it must get.
import t from 'tap'
import { readJournal, type JournalReading, type JournalReadingInput } from '../../../../coordinator/gate/journal-reading.js'
import type { JournalEntry } from '../../../../shared/schemas/journal.js'
import type { Verdict } from '../../../../shared/schemas/verdict.js'

const OLD = 'a'.repeat(32)
const NEW = 'b'.repeat(32)
const LATER = 'c'.repeat(32)
const PRE = 'd'.repeat(32)
const READY = '=> Server is up and running...'
const API_KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'

let seq = 0
function entry (message: string, invocationId?: string, pid?: number): JournalEntry {
  seq++
  return { cursor: `s=1;i=${seq.toString(16)}`, realtimeUs: 1_700_000_000_000_000 + seq * 1000, message, ...(invocationId === undefined ? {} : { invocationId }), ...(pid === undefined ? {} : { pid }) }
}

function verdict (ok: boolean, invocationId = NEW, extra: Partial<Verdict> = {}): Verdict {
  return {
    ok,
    reason: ok ? 'ready' : 'fatal-line',
    summary: ok ? 'minkms.service started and was ready' : 'minkms.service logged a fatal line',
    baseline: { cursor: 's=1;i=0', invocationId: OLD, nRestarts: 0, takenAt: 0 },
    invocationId,
    lines: [],
    timings: { restartAt: 0, verdictAt: 1 },
    ...extra
  }
}

// A restart as systemd journals it: the old run stops, the new one starts and logs.
const stopOld = [entry('Stopping minkms.service...', OLD, 1), entry('shutting down', OLD, 40), entry('Stopped minkms.service.', OLD, 1)]
const startNew = [entry('Started minkms.service.', NEW, 1), entry('Starting server instance...', NEW, 65)]
const ready = entry(READY, NEW, 65)
const fatalNew = entry('2026-01-01 00:00:00 FATAL kms: cannot unseal', NEW, 65)

interface Row {
  name: string
  input: Partial<JournalReadingInput> & Pick<JournalReadingInput, 'entries'>
  /** `final`: whether more journal lines could change the reading (the gate stops retrying when true). */
  want: Partial<JournalReading> & { ok: boolean, final: boolean }
  message: RegExp
}

const rows: Row[] = [
  {
    name: 'a new run logged the ready line, the verdict agrees',
    input: { entries: [...stopOld, ...startNew, ready] },
    want: { ok: true, final: true, invocationId: NEW, readyLineAt: ready.realtimeUs / 1000 },
    message: new RegExp(`^run ${NEW} logged the ready line and no fatal line$`)
  },
  {
    name: 'no restart (restart=false): ok without a new run',
    input: { entries: [], agent: { restarted: false } },
    want: { ok: true, final: true },
    message: /not restarted/
  },
  {
    name: 'verdict ok, but the journal shows a fatal line of that run',
    input: { entries: [...startNew, ready, fatalNew] },
    want: { ok: false, final: true, invocationId: NEW, fatal: fatalNew },
    message: /^the journal contradicts the agent's verdict: run b+ logged a fatal line: .*FATAL kms: cannot unseal$/
  },
  {
    name: 'verdict ok, but no ready line of the new run',
    input: { entries: [...stopOld, ...startNew] },
    want: { ok: false, final: false, invocationId: NEW },
    message: /^the journal contradicts the agent's verdict: run b+ has not logged the ready line$/
  },
  {
    name: 'verdict ok, but the ready line is the old run\'s',
    input: { entries: [entry(READY, OLD, 40)] },
    want: { ok: false, final: false, invocationId: NEW },
    message: /contradicts.*has not logged the ready line/
  },
  {
    name: 'verdict ok naming the run from before, the journal shows no new run',
    input: { entries: [entry(READY, OLD, 40)], agent: { restarted: true, verdict: verdict(true, OLD) } },
    want: { ok: false, final: true },
    message: /contradicts.*names run a+, the one from before the restart, and the journal shows no new run/
  },
  {
    name: 'verdict ok naming the old run while a new run is in the journal',
    input: { entries: [...startNew, ready], agent: { restarted: true, verdict: verdict(true, OLD) } },
    want: { ok: false, final: true, invocationId: NEW },
    message: /contradicts the agent's verdict: it names run a+, the journal shows run b+/
  },
  {
    name: 'verdict ok, but a later run replaced ours (it exited)',
    input: { entries: [...startNew, ready, entry('Started minkms.service.', LATER, 1), entry(READY, LATER, 70)] },
    want: { ok: false, final: true, invocationId: NEW },
    message: /contradicts.*run c+ started after run b+, so run b+ exited/
  },
  {
    name: 'a crash loop before our run: its fatal lines do not count',
    input: { entries: [entry('2026-01-01 00:00:00 FATAL kms: old config', PRE, 30), entry('Started minkms.service.', NEW, 1), ready] },
    want: { ok: true, final: true, invocationId: NEW },
    message: /^run b+ logged the ready line/
  },
  {
    name: 'a fatal line without an InvocationID but with our PID counts',
    input: { entries: [...startNew, ready, entry('panic: runtime error', undefined, 65)] },
    want: { ok: false, final: true, invocationId: NEW },
    message: /contradicts.*logged a fatal line: panic: runtime error/
  },
  {
    name: 'a fatal line without an InvocationID from another PID does not',
    input: { entries: [...startNew, ready, entry('panic: runtime error', undefined, 99)] },
    want: { ok: true, final: true },
    message: /^run b+ logged the ready line/
  },
  {
    name: "systemd's own lines (PID 1) do not lend their PID to unattributed lines",
    input: { entries: [...startNew, ready, entry('FATAL: something of another unit', undefined, 1)] },
    want: { ok: true, final: true },
    message: /^run b+ logged the ready line/
  },
  {
    name: 'verdict not ok, the journal agrees (fatal line)',
    input: { entries: [...startNew, fatalNew], agent: { restarted: true, verdict: verdict(false) } },
    want: { ok: false, final: true, invocationId: NEW, fatal: fatalNew },
    message: /^the agent's verdict is not ok \(fatal-line\): minkms.service logged a fatal line; the journal agrees: run b+ logged a fatal line/
  },
  {
    name: 'verdict not ok while the journal looks fine: still not ok',
    input: { entries: [...startNew, ready], agent: { restarted: true, verdict: verdict(false, NEW, { reason: 'unstable', summary: 'not stable for 5s' }) } },
    want: { ok: false, final: true, invocationId: NEW },
    message: /^the agent's verdict is not ok \(unstable\): not stable for 5s$/
  },
  {
    name: 'verdict not ok, no new run in the journal',
    input: { entries: stopOld, agent: { restarted: true, verdict: verdict(false, '', { reason: 'not-started', summary: 'did not start' }) } },
    want: { ok: false, final: true },
    message: /verdict is not ok \(not-started\): did not start; the journal agrees: no new run of the unit appears in the journal/
  },
  {
    name: 'restarted but no verdict',
    input: { entries: [...startNew, ready], agent: { restarted: true } },
    want: { ok: false, final: true },
    message: /restarted the unit but gave no verdict/
  },
  {
    name: 'a verdict naming no run is checked against the first new run with a ready line',
    input: { entries: [entry('Started', PRE, 1), ...startNew, ready], agent: { restarted: true, verdict: verdict(true, '') } },
    want: { ok: true, final: true, invocationId: NEW },
    message: /^run b+ logged the ready line/
  },
  {
    name: 'the unit had never run before (before = "")',
    input: { before: '', entries: [...startNew, ready] },
    want: { ok: true, final: true, invocationId: NEW },
    message: /^run b+ logged the ready line/
  },
  {
    name: 'a quoted fatal line is masked',
    input: { entries: [...startNew, ready, entry(`2026-01-01 00:00:00 FATAL bad key ${API_KEY}`, NEW, 65)] },
    want: { ok: false, final: true },
    message: /logged a fatal line: .*FATAL bad key (?!k1:xZnp)/
  }
]

for (const row of rows) {
  t.test(row.name, async t => {
    const input: JournalReadingInput = { before: OLD, agent: { restarted: true, verdict: verdict(true) }, ...row.input }
    const got = readJournal(input)
    t.match(got, row.want)
    t.match(got.message, row.message)
    t.notOk(got.message.includes(API_KEY), 'no API key in the message')
    if (row.want.fatal === undefined && row.want.ok) t.equal(got.fatal, undefined)
    t.same(readJournal(input), got, 'pure: the same input gives the same reading')
  })
}

t.test('the entries are not changed', async t => {
  const entries = [...startNew, ready, fatalNew]
  const copy = structuredClone(entries)
  readJournal({ before: OLD, entries, agent: { restarted: true, verdict: verdict(true) } })
  t.same(entries, copy)
})

t.test('a missing ready line is not final: it becomes ok when the line arrives', async t => {
  const input: JournalReadingInput = { before: OLD, entries: [...startNew], agent: { restarted: true, verdict: verdict(true) } }
  t.match(readJournal(input), { ok: false, final: false })
  t.match(readJournal({ ...input, entries: [...startNew, ready] }), { ok: true, final: true })
})

t.test('no new run yet is not final while the verdict is ok', async t => {
  t.match(readJournal({ before: OLD, entries: stopOld, agent: { restarted: true, verdict: verdict(true) } }), { ok: false, final: false, message: /run b+ has not logged the ready line/ })
  t.match(readJournal({ before: OLD, entries: stopOld, agent: { restarted: true, verdict: verdict(true, '') } }), { ok: false, final: false, message: /no new run of the unit appears/ })
})
