import t from 'tap'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { unitProblem } from '../../../../agent/apply/unit-precheck.js'
import { FakeServiceManager } from '../../../../agent/os/fake-service-manager.js'
import { buildApplier, CONFIG, CONFIG_PATH, ENV, ENV_PATH, hsmChange } from '../../../helpers/applier-fixture.js'

t.test('unitProblem: loaded → none; not-found or masked → named; systemd unreachable → named', async (t) => {
  t.equal(await unitProblem(new FakeServiceManager()), undefined)
  t.match(await unitProblem(new FakeServiceManager({ unit: 'nope.service', status: { loadState: 'not-found' } })), /^nope\.service is not-found in systemd; install the unit/)
  t.match(await unitProblem(new FakeServiceManager({ status: { loadState: 'masked' } })), /minkms\.service is masked/)
  const down = new FakeServiceManager()
  down.statusErrors.push(new Error('System has not been booted with systemd as init system (PID 1).\nFailed to connect to bus'))
  const p = await unitProblem(down)
  t.match(p, /^systemd cannot be asked about minkms\.service \(System has not been booted .* Failed to connect to bus\); .*restart: never/)
  t.notMatch(p, /\n/, 'one line')
})

for (const [what, prepare] of [
  ['a unit that does not exist', (f: FakeServiceManager) => { f.current = { ...f.current, loadState: 'not-found' } }],
  ['no systemd', (f: FakeServiceManager) => { f.statusErrors.push(new Error('Failed to connect to bus: Host is down')) }]
] as const) {
  t.test(`restart: on-change with ${what}: refused before anything is written, the unit named`, async (t) => {
    const dir = t.testdir()
    const f = await buildApplier(dir)
    prepare(f.service)
    const err = await f.applier.apply(hsmChange(1, { restart: 'on-change' })).then(() => undefined, (e: unknown) => e)
    t.match(err, { code: 'AGT_UNIT_NOT_RESTARTABLE', statusCode: 409, message: /restarts minkms\.service.*nothing was written/ })
    t.equal(f.store.writes.length, 0, 'no file written')
    t.equal((await f.store.read(CONFIG_PATH)).content, CONFIG)
    t.equal((await f.store.read(ENV_PATH)).content, ENV)
    t.equal(await f.state.readPending(), undefined, 'no write-ahead record')
    t.equal(await f.state.readApplied(), undefined, 'nothing committed')
    t.same(await readdir(join(dir, 'backups')), [], 'no backup taken')
    t.notOk(f.service.calls.includes('restart'), 'no restart asked for')
  })
}

t.test('restart: never does not need the unit: applied without asking systemd', async (t) => {
  const f = await buildApplier(t.testdir())
  f.service.current = { ...f.service.current, loadState: 'not-found' }
  const r = await f.applier.apply(hsmChange(1, { restart: 'never' }))
  t.equal(r.result, 'changed')
  t.equal(r.restarted, false)
  t.equal(f.service.statusCalls, 0, 'systemd not asked')
})

t.test('a change that writes nothing is not refused for the unit', async (t) => {
  const f = await buildApplier(t.testdir())
  await f.applier.apply(hsmChange(1))
  f.service.current = { ...f.service.current, loadState: 'not-found' }
  t.equal((await f.applier.apply(hsmChange(1))).result, 'ok')
})
