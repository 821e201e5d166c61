import t from 'tap'
import { buildTestAgent } from '../../helpers/fake-agent-core.js'

t.test('/health/live answers 200 without asking the core', async t => {
  const { app, core } = await buildTestAgent(t)
  core.readyError = new Error('systemd is gone')
  const r = await app.inject('/health/live')
  t.equal(r.statusCode, 200)
  t.same(r.json(), { ok: true })
  t.same(core.calls, [], 'core not called: liveness never depends on systemd')
})

t.test('/health/ready: 200 with checks when the core is ready', async t => {
  const { app } = await buildTestAgent(t)
  const r = await app.inject('/health/ready')
  t.equal(r.statusCode, 200)
  t.match(r.json(), { ok: true, checks: { config: { ok: true }, unit: { ok: true }, journal: { ok: true } } })
})

t.test('/health/ready: 503 with the failing check', async t => {
  const { app, core } = await buildTestAgent(t)
  core.readyResult = { ok: false, checks: { ...core.readyResult.checks, journal: { ok: false, message: 'journal tail not attached' } } }
  const r = await app.inject('/health/ready')
  t.equal(r.statusCode, 503)
  t.match(r.json(), { ok: false, checks: { journal: { ok: false, message: 'journal tail not attached' } } })
})

t.test('/health/ready: 503 (not 500) when the check itself throws; details only in the log', async t => {
  const { app, core, lines } = await buildTestAgent(t)
  core.readyError = new Error('dbus socket /run/dbus/system_bus_socket refused')
  const r = await app.inject('/health/ready')
  t.equal(r.statusCode, 503)
  t.match(r.json(), { ok: false, checks: { unit: { ok: false, message: /readiness check failed/ } } })
  t.notMatch(r.body, /dbus/)
  t.ok(lines.some(l => l.includes('dbus socket')), 'logged')
})

t.test('polled health routes are not logged at info', async t => {
  const { app, lines } = await buildTestAgent(t)
  await app.inject('/health/live')
  await app.inject('/health/ready')
  t.same(lines.filter(l => l.includes('/health/')), [])
  await app.inject('/v1/status')
  t.ok(lines.some(l => l.includes('/v1/status')), 'other routes are')
})
