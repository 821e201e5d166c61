import t from 'tap'
import { OsPortError } from '../../../../agent/errors.js'
import { SystemctlServiceManager } from '../../../../agent/os/systemctl-service-manager.js'
import { parseUnitStatus } from '../../../../agent/os/systemctl-show.js'
import { scriptedRunner } from '../../../helpers/scripted-runner.js'

// As systemd 252 printed it in the lab (its own order, not the one asked for).
const SHOW = `MainPID=34
Result=success
NRestarts=0
ExecMainStatus=0
LoadState=loaded
ActiveState=active
SubState=running
InvocationID=6deb5140c372407aadff1c7a005b065c
`
const SHOW_ARGS = ['systemctl', 'show', 'minkms.service', '-p', 'ActiveState,SubState,Result,InvocationID,NRestarts,MainPID,ExecMainStatus,LoadState', '--no-pager']

t.test('parseUnitStatus: by key, any order', async (t) => {
  t.same(parseUnitStatus(SHOW), {
    activeState: 'active',
    subState: 'running',
    result: 'success',
    invocationId: '6deb5140c372407aadff1c7a005b065c',
    nRestarts: 0,
    mainPid: 34,
    execMainStatus: 0,
    loadState: 'loaded'
  })
  const unknown = parseUnitStatus('LoadState=not-found\nActiveState=inactive\nSubState=dead\nResult=success\nInvocationID=\nNRestarts=0\nMainPID=0\nExecMainStatus=0\nExtra=a=b\n')
  t.equal(unknown.loadState, 'not-found')
  t.equal(unknown.invocationId, '')
  t.throws(() => parseUnitStatus('ActiveState=active\n'), /did not report SubState, Result/)
  t.throws(() => parseUnitStatus(SHOW.replace('NRestarts=0', 'NRestarts=x')), /NRestarts=x is not a non-negative integer/)
})

t.test('status: systemctl show with every property, with a timeout', async (t) => {
  const r = scriptedRunner(t).onRun(SHOW_ARGS, { stdout: SHOW })
  const sm = new SystemctlServiceManager({ unit: 'minkms.service', runner: r, timeoutMs: 1234 })
  const s = await sm.status()
  t.equal(s.mainPid, 34)
  t.equal(r.calls[0]?.kind === 'run' ? r.calls[0].opts.timeoutMs : 0, 1234)
})

t.test('status: failures are AGT_UNIT_STATUS_FAILED with systemctl\'s stderr', async (t) => {
  const r = scriptedRunner(t)
    .onRun(SHOW_ARGS, { code: 1, stderr: 'Failed to connect to bus: No such file or directory\n' }, { times: 1 })
    .onRun(SHOW_ARGS, { stdout: 'garbage' })
  const sm = new SystemctlServiceManager({ unit: 'minkms.service', runner: r })
  const e1 = await sm.status().catch((e: unknown) => e) as OsPortError
  t.type(e1, OsPortError)
  t.equal(e1.code, 'AGT_UNIT_STATUS_FAILED')
  t.equal(e1.statusCode, 502)
  t.equal(e1.stderr, 'Failed to connect to bus: No such file or directory')
  const e2 = await sm.status().catch((e: unknown) => e) as OsPortError
  t.equal(e2.code, 'AGT_UNIT_STATUS_FAILED')
  t.match(e2.message, /did not report ActiveState/)
})

t.test('restart: reset-failed (exit ignored), then restart --no-block', async (t) => {
  const r = scriptedRunner(t)
    .onRun(['systemctl', '--no-ask-password', 'reset-failed', 'minkms.service'], (c) => ({ code: (c.opts.okCodes ?? [0]).includes(1) ? 1 : 99 }))
    .onRun(['systemctl', '--no-ask-password', 'restart', '--no-block', 'minkms.service'], {})
  const sm = new SystemctlServiceManager({ unit: 'minkms.service', runner: r })
  await sm.restart()
  t.same(r.runs.map((a) => a[2]), ['reset-failed', 'restart'])
})

t.test('restart: a unit waiting for an automatic restart is stopped first (cancels the pending job)', async (t) => {
  const show = 'ActiveState=activating\nSubState=auto-restart\nResult=exit-code\nInvocationID=aa\nNRestarts=1\nMainPID=0\nExecMainStatus=1\nLoadState=loaded\n'
  const r = scriptedRunner(t)
    .onRun((a) => a[1] === 'show', { stdout: show })
    .onRun((a) => a.includes('stop'), {})
    .onRun((a) => a.includes('reset-failed'), {})
    .onRun((a) => a.includes('restart'), {})
  const sm = new SystemctlServiceManager({ unit: 'minkms.service', runner: r })
  await sm.prepareRestart()
  await sm.restart()
  t.same(r.runs.map((a) => a[1] === 'show' ? 'show' : a[2]), ['show', 'stop', 'reset-failed', 'restart'])
})

t.test('restart: a reset-failed that cannot run at all does not stop the restart', async (t) => {
  const r = scriptedRunner(t)
    .onRun((a) => a.includes('reset-failed'), { timedOut: true })
    .onRun((a) => a.includes('restart'), {})
  await new SystemctlServiceManager({ unit: 'minkms.service', runner: r }).restart()
  t.equal(r.runs.length, 2)
})

t.test('restart: unit not found (exit 5) and other refusals are typed, with stderr', async (t) => {
  const notFound = scriptedRunner(t)
    .onRun((a) => a.includes('reset-failed'), { code: 1 })
    .onRun((a) => a.includes('restart'), { code: 5, stderr: 'Failed to restart nosuch.service: Unit nosuch.service not found.\n' })
  const e1 = await new SystemctlServiceManager({ unit: 'nosuch.service', runner: notFound }).restart().catch((e: unknown) => e) as OsPortError
  t.equal(e1.code, 'AGT_UNIT_NOT_FOUND')
  t.match(e1.message, /Unit nosuch.service not found/)
  const masked = scriptedRunner(t)
    .onRun((a) => a.includes('reset-failed'), {})
    .onRun((a) => a.includes('restart'), { code: 1, stderr: 'Failed to restart minkms.service: Unit minkms.service is masked.\n' })
  const e2 = await new SystemctlServiceManager({ unit: 'minkms.service', runner: masked }).restart().catch((e: unknown) => e) as OsPortError
  t.equal(e2.code, 'AGT_UNIT_RESTART_FAILED')
  t.equal(e2.stderr, 'Failed to restart minkms.service: Unit minkms.service is masked.')
})

t.test('restart: an aborted signal rejects with the abort, not a typed error', async (t) => {
  // Nothing is scripted: the runner refuses an aborted call before it looks for an answer, so
  // the error seen is the abort, passed through untyped.
  const r = scriptedRunner(t)
  const sm = new SystemctlServiceManager({ unit: 'minkms.service', runner: r })
  const err = await sm.restart({ signal: AbortSignal.abort() }).catch((e: unknown) => e)
  t.notOk(err instanceof OsPortError)
  t.ok(err instanceof Error && err.name === 'AbortError')
})

t.test('restart: an active run that systemd started by itself (NRestarts > 0) is stopped first; a manual one is not', async (t) => {
  const auto = 'ActiveState=active\nSubState=running\nResult=success\nInvocationID=bb\nNRestarts=3\nMainPID=42\nExecMainStatus=0\nLoadState=loaded\n'
  const r = scriptedRunner(t)
    .onRun((a) => a[1] === 'show', { stdout: auto })
    .onRun((a) => a.includes('stop'), {})
  await new SystemctlServiceManager({ unit: 'minkms.service', runner: r }).prepareRestart()
  t.same(r.runs.map((a) => a[1] === 'show' ? 'show' : a[2]), ['show', 'stop'])
  const manual = scriptedRunner(t).onRun((a) => a[1] === 'show', { stdout: auto.replace('NRestarts=3', 'NRestarts=0') })
  await new SystemctlServiceManager({ unit: 'minkms.service', runner: manual }).prepareRestart()
  t.same(manual.runs.map((a) => a[1] === 'show' ? 'show' : a[2]), ['show'], 'nothing to cancel: no stop')
})
