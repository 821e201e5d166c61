import t from 'tap'
import { OsPortError } from '../../../../agent/errors.js'
import { FailingServiceManager } from '../../../../agent/os/failing-service-manager.js'
import { FakeServiceManager, unitError } from '../../../../agent/os/fake-service-manager.js'
import type { ServiceManager } from '../../../../agent/os/service-manager.js'

t.test('restart starts a new run: new InvocationID and PID, NRestarts flushed', async (t) => {
  const sm = new FakeServiceManager({ status: { nRestarts: 3 } })
  const before = await sm.status()
  await sm.restart()
  const after = await sm.status()
  t.not(after.invocationId, before.invocationId)
  t.match(after.invocationId, /^[0-9a-f]{32}$/)
  t.ok(after.mainPid > before.mainPid)
  t.equal(after.nRestarts, 0)
  t.same(sm.calls, ['status', 'restart', 'status'])
  t.equal(sm.statusCalls, 2)
})

t.test('crash loop: auto-restarts count up, then failed with the last run kept', async (t) => {
  const sm = new FakeServiceManager()
  await sm.restart()
  const first = sm.current.invocationId
  const later = sm.crashLoop(3)
  t.equal(later.length, 2)
  t.not(later[0], first)
  t.equal(sm.current.nRestarts, 2)
  t.equal(sm.current.invocationId, later[1])
  t.same([sm.current.activeState, sm.current.subState, sm.current.result], ['failed', 'failed', 'exit-code'])
})

t.test('exits: auto-restart, clean stop, failure', async (t) => {
  const sm = new FakeServiceManager()
  t.equal(sm.exitRun(1).current.subState, 'auto-restart')
  t.equal(sm.exitRun(0, { autoRestart: false }).current.activeState, 'inactive')
  t.equal(sm.exitRun(1, { autoRestart: false }).current.activeState, 'failed')
  t.equal(sm.giveUp('start-limit-hit').current.result, 'start-limit-hit')
})

t.test('scripted states, errors and a restart that systemd has not carried out yet', async (t) => {
  const sm = new FakeServiceManager({ onRestart: () => {} })
  sm.queue({ activeState: 'activating', subState: 'start' }, { activeState: 'active', subState: 'running' })
  t.equal((await sm.status()).subState, 'start')
  t.equal((await sm.status()).subState, 'running')
  const inv = sm.current.invocationId
  await sm.restart()
  t.equal(sm.current.invocationId, inv)
  sm.statusErrors.push(unitError('AGT_UNIT_STATUS_FAILED', 'Failed to connect to bus'))
  await t.rejects(sm.status(), { code: 'AGT_UNIT_STATUS_FAILED' })
  sm.restartError = unitError('AGT_UNIT_NOT_FOUND', 'Unit minkms.service not found.')
  await t.rejects(sm.restart(), { code: 'AGT_UNIT_NOT_FOUND' })
  await sm.restart()
  await t.rejects(sm.restart({ signal: AbortSignal.abort() }))
})

t.test('FailingServiceManager: typed errors with the reason as stderr', async (t) => {
  const sm: ServiceManager = new FailingServiceManager()
  const e = await sm.status().catch((x: unknown) => x) as OsPortError
  t.equal(e.code, 'AGT_UNIT_STATUS_FAILED')
  t.match(e.stderr, /Failed to connect to bus/)
  await t.rejects(sm.restart(), { code: 'AGT_UNIT_RESTART_FAILED' })
})
