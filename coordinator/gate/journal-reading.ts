// The coordinator's own reading of a node's journal after an apply: the second opinion the step
// gate sets beside the agent's verdict, and the engine's default (EngineOptions.readJournal). Pure:
// the entries that arrived after the cursor taken before the apply, the InvocationID of the run
// before it, and what the agent said, in; a judgement with its evidence out. The gate reads again
// as entries arrive, until the reading is ok or `final` (more lines cannot change it).
//
// What it holds the restart to. The run the restart started is a NEW run (InvocationID other than
// the one before the apply); it logged minkms's ready line; it logged no fatal line; and no run
// started after it (a later run means ours exited and systemd started another). The run is the
// one the agent's verdict names; a verdict naming none is checked against the first new run that
// logged the ready line. Runs that came before ours (a crash loop going on when the restart was
// asked for) are not judged: their lines say nothing about our restart.
//
// What the wire gives. JournalEntry carries no origin, so the patterns are matched against
// every line of the unit; systemd's own messages about the unit ("Started …", "Main process
// exited …") never match them. A line without an InvocationID (journald could not look the
// sender up, it had exited) counts for our run only when its PID is one our run's own lines
// carried (never PID 1, which is systemd's).
//
// Quoted lines pass the secret-pattern mask (the agent masks them too; minkms's banner prints
// its root API key). The patterns are minkms's, from shared/minkms/journal-lines.ts: the agent's verifier uses the
// same ones, so the two readings can only disagree about the facts.
import { MINKMS_FATAL, MINKMS_READY } from '../../shared/minkms/journal-lines.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import { redactText } from '../../shared/secrets/redact-text.js'
import type { Verdict } from '../../shared/schemas/verdict.js'

/** What the reading is given. */
export interface JournalReadingInput {
  /** The unit's InvocationID before the apply ('' when it had never run). */
  before: string
  /** The entries after the cursor taken before the apply, as they arrived. */
  entries: readonly JournalEntry[]
  /** What the agent said (an ApplyResult fits): whether it restarted the unit, and its verdict. */
  agent: { restarted: boolean, verdict?: Verdict | undefined }
}

/** The coordinator's judgement of the journal. */
export interface JournalReading {
  ok: boolean
  /**
   * Whether more entries could change the judgement: false only while the run we wait for, or
   * its ready line, may still be on its way. A fatal line, a later run, a verdict that is not ok
   * or that names another run are final.
   */
  final: boolean
  /** One sentence: what the journal shows, or how it contradicts the agent. */
  message: string
  /** The run judged. */
  invocationId?: string
  /** Wall ms of its ready line. */
  readyLineAt?: number
  /** Its first fatal line. */
  fatal?: JournalEntry
}

/** A journal reading, as the engine takes it (replaceable in tests). */
export type ReadJournal = (input: JournalReadingInput) => JournalReading

const CONTRADICTS = "the journal contradicts the agent's verdict"

/** Judges the journal of one node step; see the file comment for the rules. */
export function readJournal (input: JournalReadingInput): JournalReading {
  const { before, entries, agent } = input
  if (!agent.restarted) return { ok: true, final: true, message: 'the unit was not restarted: no new run to look for in the journal' }
  const verdict = agent.verdict
  if (verdict === undefined) return { ok: false, final: true, message: 'the agent restarted the unit but gave no verdict' }

  const isNew = (inv: string | undefined): inv is string => inv !== undefined && inv !== '' && inv !== before
  const ready = (e: JournalEntry): boolean => MINKMS_READY.test(e.message)
  const named = verdict.invocationId
  const ours = isNew(named)
    ? named
    : entries.find((e) => isNew(e.invocationId) && ready(e))?.invocationId ?? entries.find((e) => isNew(e.invocationId))?.invocationId

  if (ours === undefined) {
    const message = named !== '' && named === before
      ? `the verdict names run ${named}, the one from before the restart, and the journal shows no new run`
      : 'no new run of the unit appears in the journal'
    return notOk(verdict, message, named !== '' && named === before)
  }

  const first = entries.findIndex((e) => e.invocationId === ours)
  const pids = new Set(entries.filter((e) => e.invocationId === ours && e.pid !== undefined && e.pid !== 1).map((e) => e.pid))
  const mine = (e: JournalEntry): boolean => e.invocationId === ours || (e.invocationId === undefined && e.pid !== undefined && pids.has(e.pid))
  const readyLine = entries.find((e) => e.invocationId === ours && ready(e))
  const fatal = entries.find((e) => mine(e) && MINKMS_FATAL.test(e.message))
  const later = first === -1 ? undefined : entries.slice(first + 1).find((e) => isNew(e.invocationId) && e.invocationId !== ours)

  const evidence: JournalReading = {
    ok: false,
    final: true,
    message: '',
    invocationId: ours,
    ...(readyLine === undefined ? {} : { readyLineAt: readyLine.realtimeUs / 1000 }),
    ...(fatal === undefined ? {} : { fatal })
  }
  const problem = fatal !== undefined
    ? `run ${ours} logged a fatal line: ${redactText(fatal.message, [])}`
    : later !== undefined
      ? `run ${later.invocationId ?? ''} started after run ${ours}, so run ${ours} exited`
      : readyLine === undefined
        ? `run ${ours} has not logged the ready line`
        : undefined

  if (!verdict.ok) {
    return { ...evidence, message: `the agent's verdict is not ok (${verdict.reason}): ${verdict.summary}${problem === undefined ? '' : `; the journal agrees: ${problem}`}` }
  }
  if (named !== '' && named !== ours) return { ...evidence, message: `${CONTRADICTS}: it names run ${named === '' ? '(none)' : named}, the journal shows run ${ours}` }
  // Only a missing ready line may still come; a fatal line or a later run stays shown.
  if (problem !== undefined) return { ...evidence, final: fatal !== undefined || later !== undefined, message: `${CONTRADICTS}: ${problem}` }
  return { ...evidence, ok: true, message: `run ${ours} logged the ready line and no fatal line` }
}

// No new run in the journal (yet): final when the verdict is not ok or names the run from before.
function notOk (verdict: Verdict, problem: string, namesOld: boolean): JournalReading {
  if (!verdict.ok) return { ok: false, final: true, message: `the agent's verdict is not ok (${verdict.reason}): ${verdict.summary}; the journal agrees: ${problem}` }
  return { ok: false, final: namesOld, message: `${CONTRADICTS}: ${problem}` }
}
