// POST /v1/root-api-key: the current minkms run's banner key, once with its identity and run; the
// key only in that answer (never in an error, the journal route or any log line, even with a raw
// logger that masks nothing); no banner yet, an earlier run's banner, a stopped unit and hostile
// inputs answered with what to do and without reading anything.
import { pino } from 'pino'
import t from 'tap'
import { Value } from 'typebox/value'
import { FakeAgentCore, runningUnit, buildTestAgent } from '../../helpers/fake-agent-core.js'
import { OsPortError } from '../../../agent/errors.js'
import { generateApiKey } from '../../../shared/minkms/keys.js'
import { RootApiKeyAnswerSchema } from '../../../shared/schemas/root-api-key.js'
import type { Logger } from '../../../shared/logger.js'

const URL = '/v1/root-api-key'
const OLD = generateApiKey('k1')
const NEW = generateApiKey('k1')
const RUN1 = '1'.repeat(32)
const RUN2 = '2'.repeat(32)
const banner = (key: string): string => `API Key        ${key}`

/** An agent whose log lines are kept raw (no masking): what the code itself logs. */
async function rawAgent (t: { teardown: (fn: () => unknown) => void }): Promise<{ app: Awaited<ReturnType<typeof buildTestAgent>>['app'], core: FakeAgentCore, raw: string[] }> {
  const raw: string[] = []
  const logger = pino({ level: 'trace' }, { write: (l: string) => { raw.push(l) } }) as unknown as Logger
  const core = new FakeAgentCore({ logger })
  const { app } = await buildTestAgent(t, { core, logger })
  return { app, core, raw }
}

function twoRuns (core: FakeAgentCore): void {
  core.journal.push(
    { message: 'Starting server instance...', invocationId: RUN1 },
    { message: banner(OLD.key), invocationId: RUN1 },
    { message: 'Stopped minkms.service.', invocationId: RUN1 },
    { message: 'Starting server instance...', invocationId: RUN2 },
    { message: banner(NEW.key), invocationId: RUN2 },
    { message: '=> Server is up and running...', invocationId: RUN2 }
  )
}

t.test('answers the current run\'s key, its identity and run; nothing cached, nothing logged', async (t) => {
  const { app, core, raw } = await rawAgent(t)
  twoRuns(core)
  core.unitStatus = runningUnit(RUN2)
  const r = await app.inject({ method: 'POST', url: URL })
  t.equal(r.statusCode, 200)
  t.equal(r.headers['cache-control'], 'no-store')
  const body = r.json()
  t.ok(Value.Check(RootApiKeyAnswerSchema, body), 'matches the wire schema')
  t.same(body, { invocationId: RUN2, identity: NEW.identity, apiKey: { $secret: NEW.key } })
  t.notMatch(r.body, OLD.key.slice(3), 'the earlier run\'s key is not answered')
  const journal = await app.inject('/v1/journal')
  t.notMatch(journal.body, NEW.key.slice(3), 'the journal route still serves the safe form')
  t.match(journal.body, `k1:*** (${NEW.identity})`)
  t.ok(raw.some((l) => l.includes('/v1/root-api-key')), 'the request was logged')
  for (const k of [OLD, NEW]) t.notMatch(raw.join('\n'), k.key.slice(3), 'no log line holds a key, before any mask')
})

t.test('{} as the body is accepted; anything else is refused and reads nothing', async (t) => {
  const { app, core, raw } = await rawAgent(t)
  twoRuns(core)
  core.unitStatus = runningUnit(RUN2)
  t.equal((await app.inject({ method: 'POST', url: URL, payload: {} })).statusCode, 200)
  const reads = core.journal.calls.length
  const hostile = [
    { method: 'POST' as const, url: `${URL}?run=${RUN1}` },
    { method: 'POST' as const, url: URL, payload: { invocationId: RUN1 } },
    { method: 'POST' as const, url: URL, payload: '{"a":1,"a":2}', headers: { 'content-type': 'application/json' } },
    { method: 'POST' as const, url: URL, payload: '{"__proto__":{}}', headers: { 'content-type': 'application/json' } },
    { method: 'POST' as const, url: URL, payload: 'x'.repeat(20_000), headers: { 'content-type': 'application/json' } },
    { method: 'POST' as const, url: URL, payload: 'give me the key', headers: { 'content-type': 'text/plain' } },
    { method: 'GET' as const, url: URL }
  ]
  for (const req of hostile) {
    const r = await app.inject(req)
    t.ok(r.statusCode >= 400 && r.statusCode < 500, `${req.method} ${req.url} ${String(req.payload ?? '').slice(0, 20)}: ${r.statusCode}`)
    t.notMatch(r.body, NEW.key.slice(3))
  }
  t.equal(core.journal.calls.length, reads, 'no refused request read the journal')
  t.notMatch(raw.join('\n'), NEW.key.slice(3))
})

t.test('no banner in the current run yet: 404 AGT_ROOT_KEY_NOT_LOGGED, the earlier run\'s key not answered', async (t) => {
  const { app, core } = await buildTestAgent(t)
  core.journal.push({ message: banner(OLD.key), invocationId: RUN1 }, { message: 'Starting server instance...', invocationId: RUN2 })
  core.unitStatus = runningUnit(RUN2)
  const r = await app.inject({ method: 'POST', url: URL })
  t.equal(r.statusCode, 404)
  t.match(r.json(), { code: 'AGT_ROOT_KEY_NOT_LOGGED', message: new RegExp(`InvocationID ${RUN2}.*wait until it is up`) })
  t.notMatch(r.body, OLD.key.slice(3))
})

t.test('a unit that is not running, or whose state is unknown: 404 saying so', async (t) => {
  const { app, core } = await buildTestAgent(t)
  core.journal.push({ message: banner(OLD.key), invocationId: RUN1 })
  core.unitStatus = { ...runningUnit(RUN1), activeState: 'failed', subState: 'failed' }
  const failed = await app.inject({ method: 'POST', url: URL })
  t.match(failed.json(), { statusCode: 404, code: 'AGT_ROOT_KEY_NOT_LOGGED', message: /not running \(ActiveState failed\)/ })
  core.unitStatus = undefined
  t.match((await app.inject({ method: 'POST', url: URL })).json(), { statusCode: 404, message: /state is unknown/ })
  t.notMatch(failed.body, OLD.key.slice(3))
})

t.test('a banner line whose key does not parse: 404 without the text', async (t) => {
  const { app, core } = await buildTestAgent(t)
  const bogus = 'k1:' + 'A'.repeat(40)
  core.journal.push({ message: banner(bogus), invocationId: RUN1 })
  core.unitStatus = runningUnit(RUN1)
  const r = await app.inject({ method: 'POST', url: URL })
  t.match(r.json(), { statusCode: 404, code: 'AGT_ROOT_KEY_NOT_LOGGED', message: /holds no valid/ })
  t.notMatch(r.body, bogus.slice(3))
})

t.test('a journal that cannot be read: the error, masked, without a key', async (t) => {
  const { app, core } = await buildTestAgent(t)
  core.unitStatus = runningUnit(RUN1)
  core.journal.failWith = new OsPortError('AGT_JOURNAL_READ_FAILED', `journalctl exited 1 near ${banner(NEW.key)}`)
  const r = await app.inject({ method: 'POST', url: URL })
  t.equal(r.statusCode, 502)
  t.notMatch(r.body, NEW.key.slice(3))
})

t.test('the mask still covers every other key-shaped value of the one answer that reveals a key', async (t) => {
  const { app, core } = await buildTestAgent(t)
  // The same key twice in the journal does not matter; an identity that is not secret passes.
  twoRuns(core)
  core.unitStatus = runningUnit(RUN2)
  const r = await app.inject({ method: 'POST', url: URL })
  t.equal(r.body.split(NEW.key).length, 2, 'the key appears once, in apiKey.$secret')
})
