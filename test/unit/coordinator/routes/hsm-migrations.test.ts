// HSM migrations over a FakeHsmMigrationControl: start (201 + Location, dry run 200, the admin key
// wrapped into a Secret at the edge, the API key answered once and only when asked), list, read,
// steer, the event stream (NDJSON and SSE, resumed, ending with the migration, not with a phase's
// rollout); no token 401, viewer on a write 403, bad bodies 400 naming the field, 404, the
// orchestrator's 409s passed through; and neither the admin key nor the API key in any log line,
// even at trace level. Without the port, the routes do not exist.
import t from 'tap'
import { request } from 'undici'
import { createCoordinatorLogger } from '../../../../coordinator/logger.js'
import { migrationStart } from '../../../../coordinator/routes/hsm-migrations.js'
import { isSecret } from '../../../../shared/secrets/secret.js'
import type { HsmMigrationEvent } from '../../../../shared/schemas/hsm-migration.js'
import { buildTestCoordinator, type TestCoordinator } from '../../../helpers/coordinator-app.js'
import { FAKE_API_KEY, FakeHsmMigrationControl } from '../../../helpers/fake-hsm-migration-control.js'

// Not shaped like a minkms key, so the log's last-resort key mask would not hide it: only never
// logging it keeps it out.
const ADMIN_KEY = 'root-admin-Zx81qQp0TopSecretValue'
const JSON_CT = { 'content-type': 'application/json' }
const BODY = { cluster: 'c1', external: ['kms0:7373', 'kms1:7373'], enclave: 'keyroll', key: 'minkms-seal', adminKey: { $secret: ADMIN_KEY } }

interface Built extends TestCoordinator { migrations: FakeHsmMigrationControl, logs: string[] }

async function build (t: Parameters<typeof buildTestCoordinator>[0], opts: { heartbeatMs?: number } = {}): Promise<Built> {
  const logs: string[] = []
  const migrations = new FakeHsmMigrationControl({ c1: ['node1', 'node2', 'node3'], c2: ['node9'] })
  const c = await buildTestCoordinator(t, {
    migrations,
    // Trace: every line fastify and the routes can write is captured.
    logger: createCoordinatorLogger({ level: 'trace', destination: { write: (l: string) => logs.push(l) } }),
    ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs })
  })
  return { ...c, migrations, logs }
}

t.test('start: 201 { migration } + Location; the admin key arrives wrapped, the flags defaulted, the actor is the token', async t => {
  const c = await build(t)
  const res = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: { ...BODY, keepLocalHsm: true, strategy: { healthyDeadline: '2m' } } })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.headers.location, '/v1/hsm-migrations/m1')
  t.match(res.json(), { migration: { id: 'm1', cluster: 'c1', state: 'running', phase: 'provision', external: ['kms0:7373', 'kms1:7373'], keepLocalHsm: true, createdBy: 'bob' } })
  t.notOk('apiKey' in res.json(), 'no API key unless asked')
  const call = c.migrations.calls[0]
  t.ok(isSecret(call?.adminKey), 'the admin key is a Secret past the edge')
  t.equal(call?.adminKey?.reveal(), ADMIN_KEY)
  t.match(call?.request, { cluster: 'c1', enclave: 'keyroll', key: 'minkms-seal', keepLocalHsm: true, replaceHsm: false, removeLocalSealedCopy: false, phaseB: 'rolling', allowWriteOutage: false, dryRun: false, revealApiKey: false, strategy: { healthyDeadline: '2m' }, actor: 'bob' })

  const plain = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: { ...BODY, cluster: 'c2', adminKey: ADMIN_KEY, revealApiKey: true, replaceHsm: true, phaseB: 'all-at-once', allowWriteOutage: true } })
  t.equal(plain.statusCode, 201, plain.body)
  t.match(c.migrations.calls[1]?.request, { phaseB: 'all-at-once', allowWriteOutage: true }, 'the phase B mode passes through')
  t.ok(isSecret(c.migrations.calls[1]?.adminKey), 'a plain admin key is wrapped too')
  t.equal(c.migrations.calls[1]?.adminKey?.reveal(), ADMIN_KEY)
  t.equal(plain.json().apiKey, FAKE_API_KEY, 'revealApiKey: the API key, once')
  t.equal(plain.headers['cache-control'], 'no-store', 'an answer with a key is not cached')
  t.notMatch(res.body + plain.body, ADMIN_KEY, 'the admin key is never answered back')

  const list = await c.app.inject({ method: 'GET', url: '/v1/hsm-migrations?cluster=c1&limit=5', headers: c.viewer })
  t.equal(list.statusCode, 200)
  t.same(list.json().map((m: { id: string }) => m.id), ['m1'])
  t.same((await c.app.inject({ method: 'GET', url: '/v1/hsm-migrations', headers: c.viewer })).json().map((m: { id: string }) => m.id), ['m2', 'm1'], 'newest first')
  const one = await c.app.inject({ method: 'GET', url: '/v1/hsm-migrations/m2', headers: c.viewer })
  t.equal(one.statusCode, 200)
  t.match(one.json(), { id: 'm2', replaceHsm: true })
  t.notMatch(one.body + list.body, new RegExp(`${ADMIN_KEY}|${FAKE_API_KEY}`), 'views carry neither key')

  for (const [steer, state] of [['pause', 'paused'], ['resume', 'running'], ['abort', 'aborted']] as const) {
    const r = await c.app.inject({ method: 'POST', url: `/v1/hsm-migrations/m1/${steer}`, headers: c.operator })
    t.equal(r.statusCode, 200, `${steer}: 200`)
    t.equal(r.json().state, state)
  }
  t.match(c.migrations.calls.filter(x => x.method === 'abort'), [{ id: 'm1', actor: 'bob' }])
})

t.test('dry run: 200 { dryRun } with its problems; nothing stored', async t => {
  const c = await build(t)
  c.migrations.dryRunAnswer = { ok: false, problems: ['node2: the config has hsm.vault; add --replace-hsm to replace it'], warnings: ['node1: kms1:7373 unreachable (connect refused); kms0:7373 covers it'], preflight: [], plans: { A: { node1: '+hsm.minio.minkms' } } }
  const res = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: { ...BODY, dryRun: true } })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.headers.location, undefined)
  t.match(res.json(), { dryRun: { ok: false, problems: [/hsm\.vault/], warnings: [/kms1/], plans: { A: { node1: '+hsm.minio.minkms' } } } })
  t.notOk('migration' in res.json())
  t.same(await c.migrations.list(), [], 'nothing stored')
})

t.test('bad bodies: 400 naming the field; strict JSON; nothing reaches the orchestrator and the key is not echoed', async t => {
  const c = await build(t)
  const { adminKey: _k, ...noKey } = BODY
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['no cluster', { ...BODY, cluster: undefined }, 'SHR_VALIDATION', /body\.cluster/],
    ['no admin key', noKey, 'SHR_VALIDATION', /body\.adminKey/],
    ['empty external', { ...BODY, external: [] }, 'SHR_VALIDATION', /body\.external/],
    ['external twice', { ...BODY, external: ['kms0:7373', 'kms0:7373'] }, 'SHR_VALIDATION', /body\.external/],
    ['external not host:port', { ...BODY, external: ['kms0:7373/x y'] }, 'SHR_VALIDATION', /body\.external\.0/],
    ['enclave with a slash', { ...BODY, enclave: '../e' }, 'SHR_VALIDATION', /body\.enclave/],
    ['unknown field', { ...BODY, force: true }, 'SHR_VALIDATION', /body\.force/],
    ['secret with an extra field', { ...BODY, adminKey: { $secret: ADMIN_KEY, note: 'x' } }, 'SHR_VALIDATION', /body\.adminKey/],
    ['empty secret', { ...BODY, adminKey: { $secret: '' } }, 'SHR_VALIDATION', /body\.adminKey/],
    ['admin key too long', { ...BODY, adminKey: `${ADMIN_KEY}${'x'.repeat(300)}` }, 'SHR_VALIDATION', /body\.adminKey/],
    ['bad strategy', { ...BODY, strategy: { healthyDeadline: 'soon' } }, 'SHR_VALIDATION', /body\.strategy\.healthyDeadline/],
    ['dryRun not a boolean', { ...BODY, dryRun: 'yes' }, 'SHR_VALIDATION', /body\.dryRun/]
  ]
  for (const [what, payload, code, field] of cases) {
    const res = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: JSON.stringify(payload) })
    t.equal(res.statusCode, 400, `${what}: 400 (${res.body})`)
    t.equal(res.json().code, code, `${what}: ${code}`)
    t.match(res.body, field, `${what}: names the field`)
    t.notMatch(res.body, ADMIN_KEY, `${what}: the key is not echoed`)
  }
  const dup = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: `{"cluster":"c1","cluster":"c2","adminKey":"${ADMIN_KEY}"}` })
  t.equal(dup.statusCode, 400)
  t.equal(dup.json().code, 'SHR_CHANGE_SPEC_SYNTAX', 'duplicate keys refused')
  const proto = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: `{"__proto__":{"dryRun":true},"adminKey":"${ADMIN_KEY}"}` })
  t.equal(proto.statusCode, 400, '__proto__ refused')
  const broken = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: `{"adminKey":"${ADMIN_KEY}",` })
  t.equal(broken.statusCode, 400)
  t.notMatch(dup.body + proto.body + broken.body, ADMIN_KEY)
  const steerBody = await c.app.inject({ method: 'GET', url: '/v1/hsm-migrations?limit=0', headers: c.viewer })
  t.equal(steerBody.statusCode, 400)
  t.match(steerBody.body, /querystring\.limit/)
  t.same(c.migrations.calls, [], 'the orchestrator was never asked')
})

t.test('auth: no token 401, viewer on a write 403, viewer reads', async t => {
  const c = await build(t)
  for (const [method, url] of [['POST', '/v1/hsm-migrations'], ['GET', '/v1/hsm-migrations'], ['GET', '/v1/hsm-migrations/m1'], ['GET', '/v1/hsm-migrations/m1/events'], ['POST', '/v1/hsm-migrations/m1/abort']] as const) {
    const res = await c.app.inject({ method, url, headers: JSON_CT, ...(method === 'POST' ? { payload: BODY } : {}) })
    t.equal(res.statusCode, 401, `${method} ${url}: 401`)
    t.equal(res.json().code, 'CRD_UNAUTHENTICATED')
  }
  const viewerStart = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.viewer, ...JSON_CT }, payload: BODY })
  t.equal(viewerStart.statusCode, 403)
  t.match(viewerStart.json(), { code: 'CRD_FORBIDDEN', message: /operator/ })
  for (const steer of ['pause', 'resume', 'abort']) {
    const res = await c.app.inject({ method: 'POST', url: `/v1/hsm-migrations/m1/${steer}`, headers: c.viewer })
    t.equal(res.statusCode, 403, `viewer ${steer}: 403`)
  }
  t.same(c.migrations.calls, [], 'nothing reached the orchestrator')
  const read = await c.app.inject({ method: 'GET', url: '/v1/hsm-migrations', headers: c.viewer })
  t.equal(read.statusCode, 200)
})

t.test('404s and the orchestrator\'s 409s pass through with their codes', async t => {
  const c = await build(t)
  const unknownCluster = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: { ...BODY, cluster: 'nope' } })
  t.equal(unknownCluster.statusCode, 404)
  t.match(unknownCluster.json(), { code: 'CRD_NOT_FOUND', message: /nope/ })
  for (const url of ['/v1/hsm-migrations/zz', '/v1/hsm-migrations/zz/events']) {
    const res = await c.app.inject({ method: 'GET', url, headers: c.viewer })
    t.equal(res.statusCode, 404, url)
    t.match(res.json(), { code: 'CRD_NOT_FOUND', message: /no HSM migration zz/ })
  }
  const steer = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations/zz/pause', headers: c.operator })
  t.equal(steer.statusCode, 404)

  t.equal((await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: BODY })).statusCode, 201)
  const busy = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: BODY })
  t.equal(busy.statusCode, 409)
  t.match(busy.json(), { code: 'CRD_ROLLOUT_CONFLICT', message: /m1/ })
  const resume = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations/m1/resume', headers: c.operator })
  t.equal(resume.statusCode, 409, 'resume a running migration')
  t.equal(resume.json().code, 'CRD_ROLLOUT_STATE')
})

t.test('events: NDJSON stored then live, resumed with ?from=, ending with the migration (not a phase\'s rollout); SSE with Last-Event-ID', async t => {
  const c = await build(t, { heartbeatMs: 60_000 })
  const base = await c.app.listen({ host: '127.0.0.1', port: 0 })
  const id = (await c.migrations.start(migrationStart(BODY, 'bob'))).migration?.id as string
  c.migrations.emit(id, { type: 'provision', message: 'enclave keyroll created' })
  const res = await request(`${base}/v1/hsm-migrations/${id}/events?from=1`, { headers: c.viewer })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/x-ndjson/)
  let text = ''
  let sent = false
  for await (const chunk of res.body) {
    text += chunk.toString()
    if (!sent && text.includes('enclave keyroll created')) {
      sent = true
      c.migrations.emit(id, { type: 'rollout', phase: 'A', message: 'rollout succeeded', data: { state: 'succeeded' } })
      c.migrations.emit(id, { type: 'journal', phase: 'B', node: 'node1', message: 'minkms: listening on :7373' })
      c.migrations.setState(id, 'succeeded')
    }
  }
  const events = text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as HsmMigrationEvent)
  t.same(events.map(e => e.index), [1, 2, 3, 4], 'from 1 to the terminal event, each once; the phase rollout\'s end did not end it')
  t.match(events[1], { type: 'rollout', phase: 'A' })
  t.match(events.at(-1), { type: 'migration', data: { state: 'succeeded' } })
  t.equal(c.migrations.subscribers(id), 0, 'unsubscribed at the end')

  const sse = await request(`${base}/v1/hsm-migrations/${id}/events`, { headers: { ...c.viewer, accept: 'text/event-stream', 'last-event-id': '2' } })
  t.match(sse.headers['content-type'], /^text\/event-stream/)
  const body = await sse.body.text()
  t.same([...body.matchAll(/^id: (\d+)$/gm)].map(m => Number(m[1])), [3, 4], 'resumed after Last-Event-ID')
})

t.test('neither the admin key nor the API key appears in any log line (trace level), whatever the outcome', async t => {
  const c = await build(t)
  const post = async (payload: unknown): Promise<number> => (await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: JSON.stringify(payload) })).statusCode
  t.equal(await post({ ...BODY, revealApiKey: true }), 201)
  t.equal(await post({ ...BODY, revealApiKey: true }), 409)
  t.equal(await post({ ...BODY, cluster: 'c2', adminKey: ADMIN_KEY, dryRun: true }), 200)
  t.equal(await post({ ...BODY, adminKey: { $secret: ADMIN_KEY, x: 1 } }), 400)
  t.equal(await post({ ...BODY, adminKey: ADMIN_KEY.repeat(20) }), 400)
  const broken = await c.app.inject({ method: 'POST', url: '/v1/hsm-migrations', headers: { ...c.operator, ...JSON_CT }, payload: `{"adminKey":"${ADMIN_KEY}"` })
  t.equal(broken.statusCode, 400)
  t.ok(c.logs.length > 10, `lines were captured (${c.logs.length})`)
  t.ok(c.logs.some(l => l.includes('HSM migration started')), 'the start is logged')
  const all = c.logs.join('')
  t.notMatch(all, ADMIN_KEY, 'no admin key in the logs')
  t.notMatch(all, ADMIN_KEY.slice(-12), 'not even a part of it')
  t.notMatch(all, FAKE_API_KEY.slice(3), 'no API key in the logs')
})

t.test('without the port the routes do not exist; with it, they are in /openapi.json', async t => {
  const bare = await buildTestCoordinator(t)
  const res = await bare.app.inject({ method: 'GET', url: '/v1/hsm-migrations', headers: bare.viewer })
  t.equal(res.statusCode, 404)
  const c = await build(t)
  const doc = (await c.app.inject('/openapi.json')).json()
  for (const [path, method] of [['/v1/hsm-migrations', 'post'], ['/v1/hsm-migrations', 'get'], ['/v1/hsm-migrations/{id}', 'get'], ['/v1/hsm-migrations/{id}/pause', 'post'],
    ['/v1/hsm-migrations/{id}/resume', 'post'], ['/v1/hsm-migrations/{id}/abort', 'post'], ['/v1/hsm-migrations/{id}/events', 'get']] as const) {
    t.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`)
  }
  const start = doc.paths['/v1/hsm-migrations'].post
  t.match(start.requestBody.content['application/json'].schema, { properties: { adminKey: {}, external: { type: 'array' } }, required: ['cluster', 'external', 'enclave', 'key', 'adminKey'] })
  t.ok(start.responses['200'] !== undefined && start.responses['201'] !== undefined, 'dry run 200, start 201')
  t.match(start.description, /operator/)
  t.match(doc.paths['/v1/hsm-migrations/{id}/events'].get.responses['200'].content, { 'application/x-ndjson': {}, 'text/event-stream': {} })
})
