// The coordinator's API under hostile requests the first hostile-input review did not cover,
// over real HTTP on loopback with the fakes: refusals fastify or Node make before a route, numbers
// in a query read strictly, unknown query parameters on steering routes, two Authorization
// headers, HSM migration requests with external servers that cannot be reached as written, and
// strategy durations the engine cannot honour. Each is a 4xx with `{ code, message, statusCode }`
// and a code of docs/errors.md, the engine and the migration orchestrator are never asked, and no
// answer or log line holds the secret sent along.
import t, { type Test } from 'tap'
import { buildTestCoordinator } from '../helpers/coordinator-app.js'
import { FakeHsmMigrationControl } from '../helpers/fake-hsm-migration-control.js'
import { get, post, rawRequest, type RawAnswer } from '../helpers/raw-http.js'
import { documentedRefusal } from '../helpers/documented-refusal.js'

const SECRET = 'k2:SuperSecretValueThatMustNeverLeak_0123456789abcdef'
const SECRET_CORE = 'SuperSecretValueThatMustNeverLeak'

const migrations = new FakeHsmMigrationControl()
const c = await buildTestCoordinator(t, { migrations })
const base = await c.app.listen({ host: '127.0.0.1', port: 0 })
const JSON_CT = 'application/json'
const OP = `Authorization: Bearer ${c.operatorToken}\r\n`
const VIEW = `Authorization: Bearer ${c.viewerToken}\r\n`

/** `payload` with the operator's token (or the given headers) after its request line. */
function authed (payload: string | Buffer, headers = OP): string {
  return payload.toString().replace('\r\n', `\r\n${headers}`)
}

/** A documented 4xx without the secret (test/helpers/documented-refusal.ts). */
function refused (t: Test, a: RawAnswer, what: string, code?: string | RegExp, status?: number): void {
  documentedRefusal(t, a, what, SECRET_CORE, code, status)
}

t.test('refusals fastify and Node make before a route carry a code of the catalogue', async t => {
  const cases: Array<[string, string | Buffer, string, number]> = [
    ['application/xml plan', authed(post('/v1/plans', 'application/xml', `<k>${SECRET}</k>`)), 'SHR_UNSUPPORTED_MEDIA_TYPE', 415],
    ['YAML on a steer', authed(post('/v1/rollouts/r1/pause', 'application/yaml', 'a: 1')), 'SHR_UNSUPPORTED_MEDIA_TYPE', 415],
    ['YAML HSM migration', authed(post('/v1/hsm-migrations', 'application/yaml', `adminKey: ${SECRET}`)), 'SHR_UNSUPPORTED_MEDIA_TYPE', 415],
    ['lone % in an id', authed(get('/v1/rollouts/%')), 'SHR_BAD_URL', 400],
    ['%zz in an id', authed(get('/v1/rollouts/%zz/events')), 'SHR_BAD_URL', 400],
    ['broken UTF-8 in an id', authed(post('/v1/rollouts/%E0%A4%A/abort', JSON_CT, '{}')), 'SHR_BAD_URL', 400],
    ['a 200-character id', authed(get(`/v1/rollouts/${'x'.repeat(200)}`)), 'SHR_BAD_URL', 400],
    ['Expect: 200-ok', authed(`POST /v1/plans HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: ${JSON_CT}\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}`), 'SHR_HTTP_EXPECTATION_FAILED', 417],
    ['CONNECT', 'CONNECT evil:443 HTTP/1.1\r\nHost: evil:443\r\n\r\n', 'CRD_HTTP_BAD_REQUEST', 400],
    ['HTTP/1.1 without Host', `GET /v1/rollouts HTTP/1.1\r\n${OP}Connection: close\r\n\r\n`, 'CRD_HTTP_BAD_REQUEST', 400]
  ]
  for (const [what, payload, code, status] of cases) refused(t, await rawRequest(base, payload), what, code, status)
  t.same(c.control.calls, [], 'the engine was not asked')
  t.same(migrations.calls, [], 'the orchestrator was not asked')
})

t.test('query numbers are read strictly; unknown query parameters, or a body, on a route that takes none are refused', async t => {
  for (const q of ['from=1.5', 'from=0x10', 'from=1e3', 'from=', 'from=true', 'limit=1.5']) {
    refused(t, await rawRequest(base, authed(get(`/v1/audit?${q}`), VIEW)), `audit ?${q}`, 'SHR_VALIDATION', 400)
  }
  refused(t, await rawRequest(base, authed(get('/v1/rollouts/r1/events?from=0x1'), VIEW)), 'events ?from=0x1', 'SHR_VALIDATION', 400)
  t.equal((await rawRequest(base, authed(get('/v1/audit?from=1&limit=2'), VIEW))).status, 200, 'plain numbers are read')
  const rollout = await c.control.start({ cluster: 'c1', change: { revision: 1, files: {} }, planHash: (await c.control.plan('c1', { revision: 1, files: {} }, 'bob')).planHash, actor: 'bob' })
  const before = c.control.calls.length
  for (const steer of ['pause', 'abort', 'rollback', 'promote', 'resume']) {
    refused(t, await rawRequest(base, authed(post(`/v1/rollouts/${rollout.id}/${steer}?dryRun=1`, JSON_CT, '{}'))), `${steer} ?dryRun=1`, 'SHR_VALIDATION', 400)
  }
  refused(t, await rawRequest(base, authed(post('/v1/hsm-migrations/m1/abort?force=1', JSON_CT, '{}'))), 'HSM abort ?force=1', 'SHR_VALIDATION', 400)
  // Nor a body: a steer takes none (nothing, null or {}), so a field it would ignore is refused.
  for (const steer of ['pause', 'abort', 'rollback']) {
    refused(t, await rawRequest(base, authed(post(`/v1/rollouts/${rollout.id}/${steer}`, JSON_CT, '{"force":true}'))), `${steer} {"force":true}`, 'SHR_VALIDATION', 400)
    refused(t, await rawRequest(base, authed(post(`/v1/rollouts/${rollout.id}/${steer}`, JSON_CT, '[]'))), `${steer} []`, 'SHR_VALIDATION', 400)
  }
  refused(t, await rawRequest(base, authed(post('/v1/hsm-migrations/m1/pause', JSON_CT, `{"reason":"${SECRET}"}`))), 'HSM pause {"reason":…}', 'SHR_VALIDATION', 400)
  refused(t, await rawRequest(base, authed(get(`/v1/clusters?token=${SECRET}`), VIEW)), 'clusters ?token=…', 'SHR_VALIDATION', 400)
  t.same(c.control.calls.slice(before), [], 'no rollout was steered')
  t.equal((await c.control.get(rollout.id))?.state, rollout.state, 'the rollout is as it was')
})

t.test('two Authorization headers are refused, whichever comes first', async t => {
  for (const [what, headers] of [['viewer then operator', `${VIEW}${OP}`], ['operator then viewer', `${OP}${VIEW}`], ['operator twice', `${OP}${OP}`]] as const) {
    refused(t, await rawRequest(base, authed(post('/v1/rollouts/r9/abort', JSON_CT, '{}'), headers)), what, 'CRD_UNAUTHENTICATED', 401)
    refused(t, await rawRequest(base, authed(get('/v1/rollouts'), headers)), `${what} (read)`, 'CRD_UNAUTHENTICATED', 401)
  }
  t.equal((await rawRequest(base, authed(get('/v1/rollouts'), VIEW))).status, 200, 'one header is served')
})

t.test('HSM migration: external servers that cannot be reached as written are refused before anything is stored', async t => {
  const body = (o: Record<string, unknown>): string => JSON.stringify({ cluster: 'c1', external: ['kms1.example:7373'], enclave: 'e', key: 'k', adminKey: { $secret: SECRET }, ...o })
  const bad: unknown[][] = [['kms:0'], ['kms:65536'], ['kms:99999999999'], ['kms:-1'], ['[::1'], ['::1'], ['kms:7373:1'], [':7373'], ['kms:'], ['...'], ['-kms:7373'], ['[]:7373'],
    ['kms:7373', 'KMS:7373'], ['kms', 'kms:7373'], ['[fd00::1]', '[fd00::1]:7373']]
  for (const external of bad) {
    for (const dryRun of [false, true]) {
      refused(t, await rawRequest(base, authed(post('/v1/hsm-migrations', JSON_CT, body({ external, dryRun })))), `external ${JSON.stringify(external)}${dryRun ? ' (dry run)' : ''}`, 'SHR_VALIDATION', 400)
    }
  }
  t.same(migrations.calls, [], 'the orchestrator was not asked: nothing stored, nothing provisioned')
  const ok = await rawRequest(base, authed(post('/v1/hsm-migrations', JSON_CT, body({ external: ['kms1.example', '[fd00::1]', '10.1.0.1:7374'], dryRun: true }))))
  t.equal(ok.status, 200, 'a host without a port, an IPv6 literal and an address are taken')
  t.same(migrations.calls.map(x => x.request?.external), [['kms1.example:7373', '[fd00::1]:7373', '10.1.0.1:7374']], 'port 7373 written out where none was given, as the nodes\' config needs it')
})

t.test('strategy durations the engine cannot honour are refused (400), not a 500 or a 1 ms timer', async t => {
  const planHash = (await c.control.plan('c2', { revision: 1, files: {} }, 'bob')).planHash
  const before = c.control.calls.length
  const starts = migrations.calls.length
  for (const strategy of [{ healthyDeadline: '99999999999999999999h' }, { minHealthyTime: '1000h' }, { progressDeadline: '25h' }, { healthyDeadline: '86400001ms' }]) {
    refused(t, await rawRequest(base, authed(post('/v1/rollouts', JSON_CT, JSON.stringify({ cluster: 'c2', change: { revision: 1, files: {} }, planHash, strategy })))), `rollout ${JSON.stringify(strategy)}`, 'SHR_VALIDATION', 400)
    refused(t, await rawRequest(base, authed(post('/v1/hsm-migrations', JSON_CT, JSON.stringify({ cluster: 'c1', external: ['kms1.example:7373'], enclave: 'e', key: 'k', adminKey: { $secret: SECRET }, strategy })))), `HSM migration ${JSON.stringify(strategy)}`, 'SHR_VALIDATION', 400)
  }
  t.same(c.control.calls.slice(before), [], 'the engine was not asked')
  t.equal(migrations.calls.length, starts, 'the orchestrator was not asked')
  const ok = await rawRequest(base, authed(post('/v1/rollouts', JSON_CT, JSON.stringify({ cluster: 'c2', change: { revision: 1, files: {} }, planHash, strategy: { healthyDeadline: '24h', minHealthyTime: '1m' } }))))
  t.equal(ok.status, 201, '24h is taken')
})

t.test('YAML change specs: an alias without its anchor is a 400, not a 500', async t => {
  const before = c.control.calls.length
  for (const route of ['/v1/plans?cluster=c1', '/v1/rollouts?cluster=c1&planHash=x']) {
    refused(t, await rawRequest(base, authed(post(route, 'application/yaml', 'revision: 3\nfiles:\n  config:\n    set:\n      c: *nope\n'))), `${route} alias without anchor`, 'SHR_CHANGE_SPEC_SYNTAX', 400)
    refused(t, await rawRequest(base, authed(post(route, 'application/yaml', 'revision: 3\nfiles:\n  config:\n    set:\n      ? [a]\n      : 1\n'))), `${route} list as a key`, 'SHR_CHANGE_SPEC_SYNTAX', 400)
  }
  for (const route of ['/v1/plans?cluster=c1&cluster=c2', '/v1/rollouts?cluster=c1&planHash=x&planHash=y']) {
    const a = await rawRequest(base, authed(post(route, 'application/yaml', 'revision: 3\nfiles: {}\n')))
    refused(t, a, `${route}`, 'CRD_BAD_INPUT', 400)
    t.match(a.body, /given more than once/, `${route}: says which parameter is repeated`)
  }
  t.same(c.control.calls.slice(before), [], 'the engine was not asked')
})

t.test('afterwards: no 5xx, no error logged, no secret in the log', async t => {
  t.notOk(c.lines.some(l => /"statusCode":5\d\d/.test(l) || /"level":50/.test(l)), 'no 5xx and no error logged')
  t.notOk(c.lines.some(l => l.includes(SECRET_CORE)), 'no log line holds the secret')
})
