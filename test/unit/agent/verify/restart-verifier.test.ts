import t, { type Test } from 'tap'
import { FakeJournal } from '../../../../agent/os/fake-journal.js'
import type { Journal, JournalEntry } from '../../../../agent/os/journal.js'
import { RestartVerifier } from '../../../../agent/verify/restart-verifier.js'
import { MINKMS_FATAL, MINKMS_READY } from '../../../../agent/verify/verdict.js'
import { FakeServiceManager } from '../../../../agent/os/fake-service-manager.js'
import { systemClock } from '../../../../shared/clock.js'
import { settle } from '../../../helpers/fake-clock.js'
import { FATAL_LINE, OLD_RUN, READY_LINE, restartScenario } from '../../../helpers/restart-scenario.js'

type Scenario = ReturnType<typeof restartScenario>

/** Nothing left running: no fake timers, no journal followers. */
function assertClean (t: Test, s: Scenario): void {
  t.equal(s.clock.pending, 0, 'no timer left')
  t.equal(s.journal.activeFollowers, 0, 'no journal follower left')
}

/** The new run comes up: started line, ready line, health 200. */
function comesUp (s: Scenario): void {
  s.oldRunStops()
  s.runStarts()
  s.runLogs(READY_LINE)
  s.health.ok = true
}

t.test('ok: ready line, running, health 200, held for the stability window', async (t) => {
  const s = restartScenario()
  const v = await s.start({ stableForMs: 2000 })
  comesUp(s)
  const { verdict, tookMs } = await v.finish()
  t.equal(verdict.ok, true)
  t.equal(verdict.reason, 'ready')
  t.equal(verdict.invocationId, s.service.current.invocationId)
  t.not(verdict.invocationId, OLD_RUN)
  t.ok(tookMs >= 2000, `waited the window (${tookMs} ms)`)
  t.ok(tookMs < 2600, `but not much longer (${tookMs} ms)`)
  t.same(verdict.lines.map((l) => [l.kind, l.message]), [['ready', READY_LINE]], 'the ready line is the evidence')
  t.equal(verdict.unit?.activeState, 'active')
  t.equal(verdict.health?.ok, true)
  const tm = verdict.timings
  t.ok(tm.invocationAt !== undefined && tm.readyLineAt !== undefined && tm.healthyAt !== undefined)
  t.ok(tm.verdictAt - (tm.healthyAt ?? 0) >= 2000, 'verdict at least stableFor after healthy')
  t.match(verdict.summary, /minkms\.service restarted \(invocation [0-9a-f]{8}…\), logged its ready line .*stayed ready for 2000 ms/)
  t.ok(s.journal.calls.some((c) => c.method === 'read'), 'the journal was re-read at the end of the window')
  assertClean(t, s)
})

t.test('a fatal line of the new run fails at once, not at the deadline', async (t) => {
  const s = restartScenario()
  const v = await s.start({ deadlineMs: 60_000 })
  s.oldRunStops()
  s.runStarts()
  await s.clock.advance(300)
  t.notOk(v.done())
  s.runLogs(FATAL_LINE)
  await settle()
  t.ok(v.done(), 'decided without any timer firing')
  const verdict = await v.promise
  t.equal(verdict.ok, false)
  t.equal(verdict.reason, 'fatal-line')
  t.equal(verdict.timings.fatalLineAt, s.clock.now())
  t.ok(verdict.lines.some((l) => l.kind === 'fatal' && l.message === FATAL_LINE), 'the fatal line is quoted')
  t.ok(verdict.lines.some((l) => l.message === 'Started minkms.service - MinKMS.'), "the run's last lines are quoted")
  t.notOk(verdict.lines.some((l) => l.invocationId === OLD_RUN), 'no line of the old run')
  t.match(verdict.summary, /logged a fatal line \d+ ms after the restart: .*FATAL kms: fault injection/)
  assertClean(t, s)
})

t.test('a FATAL line of the OLD run (logged while stopping) does not count', async (t) => {
  const s = restartScenario()
  const v = await s.start()
  s.journal.push({ message: FATAL_LINE, invocationId: OLD_RUN, origin: 'unit', pid: 100 })
  comesUp(s)
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'ready')
  assertClean(t, s)
})

t.test('the unit entering failed is reported at the next status poll', async (t) => {
  const s = restartScenario()
  const v = await s.start()
  s.runStarts()
  await s.clock.advance(250)
  s.service.exitRun(1, { autoRestart: false })
  const { verdict, tookMs } = await v.finish()
  t.equal(verdict.reason, 'unit-failed')
  t.ok(tookMs <= 100, `within one poll (${tookMs} ms)`)
  t.equal(verdict.unit?.activeState, 'failed')
  t.match(verdict.summary, /failed .*Result=exit-code, exit status 1/)
  t.ok(verdict.timings.failedAt !== undefined)
  assertClean(t, s)
})

t.test('start-limit-hit fails at once even though no new run appeared', async (t) => {
  const s = restartScenario({ service: { onRestart: (u) => { u.set({ activeState: 'failed', subState: 'failed', result: 'start-limit-hit', mainPid: 0 }) } } })
  const v = await s.start()
  const { verdict, tookMs } = await v.finish()
  t.equal(verdict.reason, 'unit-failed')
  t.ok(tookMs <= 100)
  t.match(verdict.summary, /start-limit-hit/)
  assertClean(t, s)
})

t.test('a process exit under Restart=always (auto-restart) is reported at once', async (t) => {
  const s = restartScenario()
  const v = await s.start()
  s.runStarts()
  await s.clock.advance(200)
  s.service.exitRun(2)
  const { verdict, tookMs } = await v.finish()
  t.equal(verdict.reason, 'process-exited')
  t.ok(tookMs <= 100)
  t.match(verdict.summary, /its main process exited \(status 2, activating\/auto-restart\)/)
  assertClean(t, s)
})

t.test('crash loop: systemd restarting the new run (NRestarts + another InvocationID) is process-exited', async (t) => {
  const s = restartScenario()
  const v = await s.start()
  const first = s.runStarts()
  await s.clock.advance(150)
  s.service.exitRun(1)
  s.service.autoRestart()
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'process-exited')
  t.equal(verdict.invocationId, first, 'the verdict names the first new run')
  t.equal(verdict.unit?.nRestarts, 1)
  assertClean(t, s)
})

t.test('a crash loop going on at the baseline: runs systemd started by itself before ours do not count', async (t) => {
  // The rollback case: the bad config keeps failing under Restart=always while we restart.
  const s = restartScenario({ service: { status: { activeState: 'activating', subState: 'auto-restart', nRestarts: 2, mainPid: 0 }, onRestart: () => {} } })
  const v = await s.start()
  const y = s.service.autoRestart() // systemd's 3rd restart of the old config lands before our job
  s.runStarts({ auto: { previous: OLD_RUN, counter: 3 } })
  s.runLogs(FATAL_LINE)
  await s.clock.advance(150)
  t.notOk(v.done(), "the old config's FATAL line is not ours")
  s.service.exitRun(1)
  await s.clock.advance(150)
  t.notOk(v.done(), 'nor is its exit')
  const z = s.service.startRun() // our restart job: NRestarts flushed to 0
  s.runStarts()
  s.runLogs(READY_LINE)
  s.health.ok = true
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'ready', verdict.summary)
  t.equal(verdict.invocationId, z)
  t.not(verdict.invocationId, y)
  assertClean(t, s)
})

t.test('our run crashed before any poll saw it: systemd\'s next run is placed after it from the journal', async (t) => {
  const s = restartScenario({ service: { onRestart: () => {} } })
  const v = await s.start()
  const startedAt = s.clock.now()
  const z = s.service.startRun()
  s.service.exitRun(1)
  const w = s.service.autoRestart()
  await s.clock.advance(150)
  t.notOk(v.done(), 'a run systemd restarted by itself, with nothing known of ours yet: wait')
  // The journal catches up (~250 ms behind), with the timestamps of when things happened.
  const at = (ms: number): number => (startedAt + ms) * 1000
  s.journal.push(
    { message: 'Started minkms.service - MinKMS.', invocationId: z, origin: 'manager', pid: 1, messageId: '39f53479d3a045ac8e11786248231fbf', realtimeUs: at(1) },
    { message: FATAL_LINE, invocationId: z, origin: 'unit', pid: 101, realtimeUs: at(5) },
    { message: 'minkms.service: Scheduled restart job, restart counter is at 1.', invocationId: z, origin: 'manager', pid: 1, messageId: '5eb03494b6584870a536b337290809b3', realtimeUs: at(110) },
    { message: 'Started minkms.service - MinKMS.', invocationId: w, origin: 'manager', pid: 1, messageId: '39f53479d3a045ac8e11786248231fbf', realtimeUs: at(111) }
  )
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'fatal-line')
  t.equal(verdict.invocationId, z)
  assertClean(t, s)
})

t.test('only systemd\'s own restarts, never ours: not-started says so', async (t) => {
  const s = restartScenario({ service: { status: { nRestarts: 1 }, onRestart: (u) => { u.autoRestart() } } })
  const v = await s.start({ deadlineMs: 2000 })
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'not-started')
  t.match(verdict.summary, /only runs systemd restarted by itself were seen \(1\)/)
  assertClean(t, s)
})

t.test('NRestarts going up on the same InvocationID is process-exited; the flush to 0 is not', async (t) => {
  const s = restartScenario({ service: { status: { nRestarts: 5 } } })
  const v = await s.start()
  t.equal(v.baseline.nRestarts, 5)
  t.equal(s.service.current.nRestarts, 0, 'a manual restart flushes NRestarts (systemd 252)')
  s.runStarts()
  await s.clock.advance(300)
  t.notOk(v.done(), '5 → 0 is not a failure')
  s.service.set({ nRestarts: 1 })
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'process-exited')
  t.match(verdict.summary, /NRestarts 0 → 1/)
  assertClean(t, s)
})

t.test('a ready line of the OLD invocation does not count', async (t) => {
  const s = restartScenario()
  const v = await s.start({ deadlineMs: 5000 })
  s.oldRunStops()
  s.journal.push({ message: READY_LINE, invocationId: OLD_RUN, origin: 'unit', pid: 100 })
  s.runStarts()
  s.health.ok = true
  const { verdict, tookMs } = await v.finish()
  t.equal(verdict.reason, 'not-ready')
  t.ok(tookMs >= 4900 && tookMs <= 5100, `at the deadline (${tookMs} ms)`)
  t.equal(verdict.timings.readyLineAt, undefined)
  t.match(verdict.summary, /was not ready within 5000 ms: no ready line/)
  assertClean(t, s)
})

t.test('systemd\'s own messages never count as the ready line', async (t) => {
  const s = restartScenario()
  const v = await s.start({ deadlineMs: 3000, readyPattern: /MinKMS/ })
  s.runStarts() // "Started minkms.service - MinKMS." is systemd's line, not the unit's
  s.health.ok = true
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'not-ready')
  assertClean(t, s)
})

t.test('never started: not-started at the deadline, counted from the baseline', async (t) => {
  const s = restartScenario({ service: { onRestart: () => {} } })
  const v = await s.start({ deadlineMs: 4000 })
  const { verdict, tookMs } = await v.finish()
  t.equal(verdict.reason, 'not-started')
  t.ok(tookMs >= 3900 && tookMs <= 4100, `at the deadline (${tookMs} ms)`)
  t.equal(verdict.invocationId, '')
  t.match(verdict.summary, /did not start a new run within 4000 ms \(last seen: invocation 0a0a0a0a…, active\/running\)\.$/)
  assertClean(t, s)
})

t.test('ready line but health 503: not-ready at the deadline, with the last health answer', async (t) => {
  const s = restartScenario()
  const v = await s.start({ deadlineMs: 3000 })
  s.runStarts()
  s.runLogs(READY_LINE)
  s.health.ok = false
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'not-ready')
  t.equal(verdict.health?.ok, false)
  t.ok(s.health.calls >= 10, `health polled (${s.health.calls} probes)`)
  t.match(verdict.summary, /health not 200/)
  t.ok(verdict.timings.readyLineAt !== undefined, 'the ready line was seen')
  assertClean(t, s)
})

t.test('a health probe that hangs counts as not ready and is cut off', async (t) => {
  const s = restartScenario({ tuning: { healthTimeoutMs: 500 } })
  s.health.answer = async (signal) => await new Promise<boolean>((_resolve, reject) => {
    signal.addEventListener('abort', () => { reject(new Error('aborted')) }, { once: true })
  })
  const v = await s.start({ deadlineMs: 2000 })
  s.runStarts()
  s.runLogs(READY_LINE)
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'not-ready')
  t.match(verdict.health?.error, /no answer within 500 ms/)
  t.ok(s.health.signals.every((sig) => sig.aborted), 'every probe got its abort')
  assertClean(t, s)
})

t.test('ready, then a crash within the window: process-exited at once', async (t) => {
  const s = restartScenario()
  const v = await s.start({ stableForMs: 5000 })
  comesUp(s)
  await s.clock.advance(1000)
  t.notOk(v.done(), 'still in the window')
  s.service.exitRun(2)
  const { verdict, tookMs } = await v.finish()
  t.equal(verdict.reason, 'process-exited')
  t.ok(tookMs <= 100)
  t.ok(verdict.timings.readyLineAt !== undefined && verdict.timings.healthyAt !== undefined, 'it had been ready')
  assertClean(t, s)
})

t.test('ready, then health drops and stays down: unstable at the deadline', async (t) => {
  const s = restartScenario()
  const v = await s.start({ stableForMs: 3000, deadlineMs: 6000 })
  comesUp(s)
  await s.clock.advance(1000)
  s.health.ok = false
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'unstable')
  t.match(verdict.summary, /became ready .* but did not stay ready for 3000 ms before the 6000 ms deadline: health not 200/)
  assertClean(t, s)
})

t.test('a health blip restarts the window; ok once it held for the whole window', async (t) => {
  const s = restartScenario()
  const v = await s.start({ stableForMs: 2000, deadlineMs: 20_000 })
  comesUp(s)
  await s.clock.advance(1500)
  s.health.ok = false
  await s.clock.advance(400)
  s.health.ok = true
  const { verdict, tookMs } = await v.finish()
  t.equal(verdict.reason, 'ready')
  t.ok(tookMs >= 1900, `the window started again (${tookMs} ms after the blip)`)
  assertClean(t, s)
})

t.test('a fatal line seen only by the end-of-window journal read fails the window', async (t) => {
  // A follower that delivers nothing after the ready line: only the catch-up read sees the rest.
  let stall = false
  const s = restartScenario({ journal: (fake) => stallingJournal(fake, () => stall) })
  const v = await s.start({ stableForMs: 1000 })
  comesUp(s)
  await s.clock.advance(300)
  stall = true
  s.runLogs(FATAL_LINE)
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'fatal-line')
  assertClean(t, s)
})

t.test('a failure seen by status first still quotes the FATAL line (catch-up read)', async (t) => {
  const s = restartScenario({ journal: (fake) => stallingJournal(fake, () => true) })
  const v = await s.start()
  s.runStarts()
  s.runLogs('2026-01-01 12:00:01 WARN  fault injection active: exit-1')
  s.runLogs(FATAL_LINE)
  s.service.exitRun(1)
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'fatal-line', 'the fatal line explains the exit best')
  t.ok(verdict.timings.failedAt !== undefined, 'the exit was what the verifier saw first')
  t.same(verdict.lines.map((l) => l.kind), ['other', 'other', 'other', 'fatal'])
  assertClean(t, s)
})

t.test('lines without an invocation count only with the new run\'s main PID', async (t) => {
  const s = restartScenario()
  const v = await s.start({ deadlineMs: 3000 })
  s.runStarts()
  await s.clock.advance(150) // a status poll learns the new main PID
  s.journal.push({ message: FATAL_LINE, origin: 'unit', pid: 100 }) // the old process
  await s.clock.advance(150)
  t.notOk(v.done(), 'a line of another PID is ignored')
  s.journal.push({ message: FATAL_LINE, origin: 'unit', pid: s.service.current.mainPid })
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'fatal-line')
  assertClean(t, s)
})

t.test('journalctl dying is survived: followed again from the last entry seen', async (t) => {
  const s = restartScenario()
  const v = await s.start()
  s.runStarts()
  await s.clock.advance(100)
  s.journal.breakFollowers()
  await s.clock.advance(300)
  s.runLogs(READY_LINE)
  s.health.ok = true
  const { verdict } = await v.finish()
  t.equal(verdict.reason, 'ready')
  const follows = s.journal.calls.filter((c) => c.method === 'follow')
  t.ok(follows.length >= 2, 'followed again')
  t.not((follows[1]?.opts as { afterCursor?: string }).afterCursor, v.baseline.cursor, 'from the last entry seen, not the baseline')
  assertClean(t, s)
})

t.test('abort: verdict aborted at once, nothing left running', async (t) => {
  const s = restartScenario()
  const ac = new AbortController()
  const v = await s.start({ signal: ac.signal })
  s.runStarts()
  await s.clock.advance(500)
  ac.abort()
  await settle()
  t.ok(v.done())
  const verdict = await v.promise
  t.equal(verdict.reason, 'aborted')
  t.equal(verdict.ok, false)
  assertClean(t, s)
})

t.test('an already aborted signal returns aborted without watching anything', async (t) => {
  const s = restartScenario()
  const v = await s.start({ signal: AbortSignal.abort() })
  const verdict = await v.promise
  t.equal(verdict.reason, 'aborted')
  t.equal(s.journal.calls.filter((c) => c.method === 'follow').length, 0)
  assertClean(t, s)
})

t.test('secrets in quoted lines are masked (the banner prints the root API key)', async (t) => {
  const s = restartScenario()
  const v = await s.start()
  s.runStarts()
  s.runLogs('API Key        k1:bZIISelEX21ipB0mKJMO0wGQ-xcEDJgLkN6Oz96EziQ')
  s.runLogs(FATAL_LINE)
  const verdict = await v.promise
  t.notOk(JSON.stringify(verdict).includes('bZIISelEX21ipB0mKJMO0wGQ'), 'the key is nowhere in the verdict')
  t.ok(verdict.lines.some((l) => l.message.startsWith('API Key        ***')))
  assertClean(t, s)
})

t.test('baseline: cursor first, then InvocationID and NRestarts', async (t) => {
  const s = restartScenario({ service: { status: { nRestarts: 2 } } })
  const b = await s.verifier.baseline()
  t.equal(b.cursor, s.journal.entries.at(-1)?.cursor)
  t.equal(b.invocationId, OLD_RUN)
  t.equal(b.nRestarts, 2)
  t.equal(b.takenAt, s.clock.now())
})

t.test('works on the real clock too, and leaves nothing behind', async (t) => {
  const service = new FakeServiceManager()
  const journal = new FakeJournal()
  const verifier = new RestartVerifier({ service, journal, clock: systemClock, health: async () => true }, { statusPollMs: 10, healthPollMs: 10 })
  const b = await verifier.baseline()
  await service.restart()
  const p = verifier.verify(b, { deadlineMs: 5000, stableForMs: 50, readyPattern: MINKMS_READY, fatalPattern: MINKMS_FATAL })
  journal.push({ message: READY_LINE, invocationId: service.current.invocationId, origin: 'unit' })
  const verdict = await p
  t.equal(verdict.reason, 'ready')
  t.equal(journal.activeFollowers, 0)
})

/** A journal whose follower stops delivering while `stalled()`; reads still see everything. */
function stallingJournal (fake: FakeJournal, stalled: () => boolean): Journal {
  return {
    tailCursor: async () => await fake.tailCursor(),
    read: async (o) => await fake.read(o),
    follow: (o) => ({
      async * [Symbol.asyncIterator] (): AsyncGenerator<JournalEntry> {
        for await (const e of fake.follow(o)) {
          if (stalled()) continue
          yield e
        }
      }
    })
  }
}

t.test('restartAndVerify: cancel a pending automatic restart, then baseline, then restart, then judge', async (t) => {
  const order: string[] = []
  const service = new FakeServiceManager()
  const journal = new FakeJournal()
  const traced = Object.assign(Object.create(service) as FakeServiceManager, {
    prepareRestart: async () => { order.push('prepare') },
    status: async () => { order.push('status'); return await service.status() },
    restart: async (o?: { signal?: AbortSignal }) => {
      order.push('restart')
      await service.restart(o)
      journal.push({ message: READY_LINE, invocationId: service.current.invocationId, origin: 'unit' })
    }
  })
  const verifier = new RestartVerifier({ service: traced, journal, clock: systemClock, health: async () => true }, { statusPollMs: 10, healthPollMs: 10 })
  const verdict = await verifier.restartAndVerify({ deadlineMs: 5000, stableForMs: 20 }, async () => { order.push('beforeRestart') })
  t.equal(verdict.reason, 'ready', "minkms's ready line is the default")
  t.same(order.slice(0, 4), ['prepare', 'status', 'beforeRestart', 'restart'], 'the baseline (status) is taken after the cancel and before the restart')
  t.equal(journal.activeFollowers, 0)
})
