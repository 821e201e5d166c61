// A restart scenario on the fakes: a unit running an old invocation, a journal with its lines, a
// fake clock, a health answer the test sets, and a RestartVerifier wired to all of them.
import type { Clock } from '../../shared/clock.js'
import { FakeJournal } from '../../agent/os/fake-journal.js'
import { FakeServiceManager, type FakeServiceManagerOptions } from '../../agent/os/fake-service-manager.js'
import type { Journal, JournalEntry } from '../../agent/os/journal.js'
import { RestartVerifier } from '../../agent/verify/restart-verifier.js'
import { MESSAGE_ID_RESTART_SCHEDULED, MESSAGE_ID_STARTED } from '../../agent/verify/run-tracker.js'
import type { VerificationTuning } from '../../agent/verify/verification.js'
import { MINKMS_FATAL, MINKMS_READY, type Verdict, type VerifyOptions } from '../../agent/verify/verdict.js'
import { FakeClock, settle } from './fake-clock.js'

export const OLD_RUN = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a'
export const READY_LINE = '=> Server is up and running...'
export const FATAL_LINE = '2026-01-01 12:00:00 FATAL kms: fault injection: exit-1'

/** Options of {@link restartScenario}. */
export interface ScenarioOptions {
  service?: FakeServiceManagerOptions
  tuning?: Partial<VerificationTuning>
  /** Replaces the fake journal (e.g. one whose follower lags). */
  journal?: (fake: FakeJournal) => Journal
  clock?: FakeClock
}

/** The wired-up fakes plus helpers that play the new run's part. */
export function restartScenario (opts: ScenarioOptions = {}) {
  const clock = opts.clock ?? new FakeClock()
  const service = new FakeServiceManager({ status: { invocationId: OLD_RUN }, ...opts.service })
  const fakeJournal = new FakeJournal({ now: () => clock.now() })
  const journal = opts.journal?.(fakeJournal) ?? fakeJournal
  const health = { ok: false, calls: 0, signals: [] as AbortSignal[], answer: undefined as undefined | ((signal: AbortSignal) => Promise<boolean>) }
  const verifier = new RestartVerifier({
    service,
    journal,
    clock,
    health: async (signal) => {
      health.calls++
      health.signals.push(signal)
      return health.answer !== undefined ? await health.answer(signal) : health.ok
    }
  }, opts.tuning)
  fakeJournal.push({ message: '2026-01-01 11:00:00 INFO  Starting server instance...', invocationId: OLD_RUN, origin: 'unit', pid: 100 })
  fakeJournal.push({ message: READY_LINE, invocationId: OLD_RUN, origin: 'unit', pid: 100 })

  /** The lines a stop of the old run writes (after the baseline cursor, old invocation). */
  const oldRunStops = (): void => {
    fakeJournal.push(
      { message: 'Stopping minkms.service - MinKMS...', invocationId: OLD_RUN, origin: 'manager', pid: 1 },
      { message: '2026-01-01 12:00:00 INFO  Stopping server (received SIGTERM)...', invocationId: OLD_RUN, origin: 'unit', pid: 100 }
    )
  }
  /**
   * systemd's "Started" line and the first line of the current run; with `auto`, preceded by the
   * "Scheduled restart job" line systemd writes for the previous run when it restarts by itself.
   */
  const runStarts = (opts: { auto?: { previous: string, counter: number } } = {}): string => {
    const inv = service.current.invocationId
    if (opts.auto !== undefined) {
      fakeJournal.push({ message: `minkms.service: Scheduled restart job, restart counter is at ${opts.auto.counter}.`, invocationId: opts.auto.previous, origin: 'manager', pid: 1, messageId: MESSAGE_ID_RESTART_SCHEDULED })
    }
    fakeJournal.push(
      { message: 'Started minkms.service - MinKMS.', invocationId: inv, origin: 'manager', pid: 1, messageId: MESSAGE_ID_STARTED },
      { message: '2026-01-01 12:00:01 INFO  Starting server instance...', invocationId: inv, origin: 'unit', pid: service.current.mainPid }
    )
    return inv
  }
  /** The current run logs `message`. */
  const runLogs = (message: string, extra: Partial<JournalEntry> = {}): void => {
    fakeJournal.push({ message, invocationId: service.current.invocationId, origin: 'unit', pid: service.current.mainPid, ...extra })
  }

  /** Baseline, restart (the fake's onRestart: by default a new run at once), then verify() in the background. */
  const start = async (verifyOpts: Partial<VerifyOptions> = {}) => {
    const baseline = await verifier.baseline()
    await service.restart()
    let verdict: Verdict | undefined
    const promise = verifier.verify(baseline, {
      deadlineMs: 30_000,
      stableForMs: 2000,
      readyPattern: MINKMS_READY,
      fatalPattern: MINKMS_FATAL,
      ...verifyOpts
    }).then((v) => { verdict = v; return v })
    await settle()
    return {
      baseline,
      promise,
      get verdict () { return verdict },
      done: () => verdict !== undefined,
      /** Advances fake time until the verdict; returns it and the fake ms it took. */
      finish: async (maxMs = 120_000): Promise<{ verdict: Verdict, tookMs: number }> => {
        const from = clock.monotonic()
        await clock.advanceUntil(() => verdict !== undefined, { maxMs })
        return { verdict: await promise, tookMs: clock.monotonic() - from }
      }
    }
  }

  return { clock: clock as FakeClock & Clock, service, journal: fakeJournal, health, verifier, oldRunStops, runStarts, runLogs, start }
}
