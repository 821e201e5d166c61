// The coordinator's own reading of a node's journal after an apply, which can contradict the
// agent's verdict: after a restart, the ready line of a NEW invocation (not the one recorded
// before the apply) and no fatal line; without a restart, no fatal line. The engine takes the
// reading as a function (EngineOptions.readJournal) so the gate's fuller reading can replace this
// one without touching the runner.
import { MINKMS_FATAL, MINKMS_READY } from '../../agent/verify/verdict.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import type { Verdict } from '../../shared/schemas/verdict.js'

/** What a reading is given: the entries after the step's cursor, as they arrived so far. */
export interface JournalReadingInput {
  invocationBefore?: string
  entries: readonly JournalEntry[]
  verdict?: Verdict
  /** Whether the agent restarted the unit (no restart: no new invocation is expected). */
  restarted: boolean
}

/**
 * ok: the journal agrees with the verdict. Not ok and `final`: it contradicts it (a fatal line);
 * not ok and not final: not yet (the ready line may still be on its way).
 */
export interface JournalReading {
  ok: boolean
  final: boolean
  message: string
  readyLineAt?: number
  invocationId?: string
}

export type ReadJournal = (input: JournalReadingInput) => JournalReading

/** The default reading, with minkms's ready and fatal lines. */
export const readJournal: ReadJournal = (input) => {
  const ours = input.restarted
    ? input.entries.filter((e) => e.invocationId !== undefined && e.invocationId !== input.invocationBefore)
    : input.entries
  const fatal = ours.find((e) => MINKMS_FATAL.test(e.message))
  if (fatal !== undefined) {
    return { ok: false, final: true, message: `fatal line in the journal: ${fatal.message.slice(0, 200)}`, ...(fatal.invocationId === undefined ? {} : { invocationId: fatal.invocationId }) }
  }
  if (!input.restarted) return { ok: true, final: true, message: 'no restart; no fatal line' }
  const ready = ours.find((e) => MINKMS_READY.test(e.message))
  if (ready === undefined) {
    return { ok: false, final: false, message: `no ready line of a new invocation after ${input.invocationBefore ?? 'the cursor'} in the journal` }
  }
  return { ok: true, final: true, message: `ready line of invocation ${ready.invocationId ?? '?'}`, readyLineAt: Math.floor(ready.realtimeUs / 1000), ...(ready.invocationId === undefined ? {} : { invocationId: ready.invocationId }) }
}
