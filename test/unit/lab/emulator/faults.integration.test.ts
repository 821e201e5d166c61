// Fault switches on running nodes: exit-1, never-ready, flap, crash-after, slow-start.
import t from 'tap'
import { startEmulator } from '../../../lab/emulator/emulator.js'
import { clientFor, emulatorOptions, failedStart, LogCapture, startNode, testEnv, waitUntil } from './helpers/harness.js'

t.test('exit-1', async (t) => {
  const env = await testEnv(t)
  const { message, logs } = await failedStart(env, { faults: { 'exit-1': '' } })
  t.equal(message, 'kms: fault injection: exit-1')
  t.match(logs.text(), /WARN {2}fault injection active: exit-1/)
})

t.test('exit-1-if-config: only a config holding the text fails', async (t) => {
  const env = await testEnv(t)
  const { message } = await failedStart(env, { faults: { 'exit-1-if-config': 'version: v1' } })
  t.equal(message, 'kms: fault injection: exit-1-if-config', 'the config holds the text: exit 1')
  const { emu } = await startNode(env, { faults: { 'exit-1-if-config': 'text-no-config-holds' } })
  t.equal(await clientFor(env, emu.host).live(), true, 'a config without the text starts')
})

t.test('never-ready: banner printed, /v1/health/ready stays 503', async (t) => {
  const env = await testEnv(t)
  const { emu, logs } = await startNode(env, { faults: { 'never-ready': '' } })
  t.equal(logs.lines.at(-2), '=> Server is up and running...')
  const probe = clientFor(env, emu.host)
  t.equal(await probe.live(), true)
  t.equal(await probe.ready(), false)
  t.equal(await probe.ready({ write: true }), false)
})

t.test('flap: readiness toggles', async (t) => {
  const env = await testEnv(t)
  const { emu } = await startNode(env, { faults: { flap: '0.2' } })
  const probe = clientFor(env, emu.host)
  await waitUntil('not ready', async () => !(await probe.ready()), 5000, 20)
  await waitUntil('ready again', async () => await probe.ready(), 5000, 20)
})

t.test('crash-after: panic line and exit status 2', async (t) => {
  const env = await testEnv(t)
  const { emu, logs } = await startNode(env, { faults: { 'crash-after': '0.2' } })
  t.equal(await emu.exited, 2)
  t.match(logs.lines.at(-1), /^panic: minkms-emulator: fault crash-after: crashing 0\.2s after start-up$/)
  await t.rejects(clientFor(env, emu.host).live(), { code: 'SHR_MINKMS_UNREACHABLE' }, 'the listener is gone')
})

t.test('slow-start delays listening and can be aborted', async (t) => {
  const env = await testEnv(t)
  const started = Date.now()
  const { logs } = await startNode(env, { faults: { 'slow-start': '0.3' } })
  t.ok(Date.now() - started >= 300, 'listening came after the delay')
  t.match(logs.text(), /WARN {2}fault slow-start: waiting 0\.3s before listening/)

  const abort = new AbortController()
  const capture = new LogCapture()
  const starting = startEmulator(emulatorOptions(env, { faults: { 'slow-start': '30' }, signal: abort.signal }, capture))
  await capture.waitFor(/fault slow-start: waiting 30s/)
  abort.abort(new Error('SIGTERM'))
  await t.rejects(starting, { name: 'AbortError' })
})
