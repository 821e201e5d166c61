// The agent's API under hostile requests the first hostile-input review did not cover, over real
// HTTP on loopback with a scripted core: refusals fastify or Node make before a route (a media
// type no parser reads, a bad percent-encoding, an Expect header, CONNECT, no Host), numbers and
// booleans in a query read strictly, unknown query parameters on routes that take none. Each is a
// 4xx with `{ code, message, statusCode }` and a code of docs/errors.md, the core is never asked,
// and no answer holds the secret sent along.
import t, { type Test } from 'tap'
import { buildTestAgent } from '../helpers/fake-agent-core.js'
import { get, post, rawRequest, type RawAnswer } from '../helpers/raw-http.js'
import { documentedRefusal } from '../helpers/documented-refusal.js'

const SECRET = 'k2:SuperSecretValueThatMustNeverLeak_0123456789abcdef'
const SECRET_CORE = 'SuperSecretValueThatMustNeverLeak'

// The preflight port records what it was asked; it connects nowhere.
const preflightCalls: string[][] = []
const preflight = {
  run: async (req: { servers: string[] }) => {
    preflightCalls.push(req.servers)
    return { node: 'node1', ok: false, reachable: 0, trust: { source: 'system' as const }, servers: [] }
  }
}
const { app, core, lines } = await buildTestAgent(t, { preflight })
const base = await app.listen({ host: '127.0.0.1', port: 0 })
const JSON_CT = 'application/json'

/** A documented 4xx without the secret (test/helpers/documented-refusal.ts). */
function refused (t: Test, a: RawAnswer, what: string, code?: string | RegExp, status?: number): void {
  documentedRefusal(t, a, what, SECRET_CORE, code, status)
}

t.test('refusals fastify makes before a route carry a code of the catalogue', async t => {
  const before = core.calls.length
  const cases: Array<[string, string | Buffer, string, number]> = [
    ['application/xml', post('/v1/plan', 'application/xml', `<k>${SECRET}</k>`), 'SHR_UNSUPPORTED_MEDIA_TYPE', 415],
    ['application/json-patch+json', post('/v1/apply', 'application/json-patch+json', '{}'), 'SHR_UNSUPPORTED_MEDIA_TYPE', 415],
    ['a Content-Type of ";"', post('/v1/stage', ';', '{}'), 'SHR_UNSUPPORTED_MEDIA_TYPE', 415],
    ['YAML on the commit', post('/v1/stage/commit', 'application/yaml', 'revision: 1'), 'SHR_UNSUPPORTED_MEDIA_TYPE', 415],
    ['YAML on the preflight', post('/v1/preflight/external-kms', 'application/yaml', `apiKey: ${SECRET}`), 'SHR_UNSUPPORTED_MEDIA_TYPE', 415]
  ]
  for (const [what, payload, code, status] of cases) refused(t, await rawRequest(base, payload), what, code, status)
  t.same(core.calls.slice(before), [], 'the core was not asked')
})

t.test('what Node answers by itself has the documented body too', async t => {
  const body = '{"revision":1,"files":{}}'
  refused(t, await rawRequest(base, `POST /v1/plan HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: ${JSON_CT}\r\nExpect: 200-ok\r\nContent-Length: ${body.length}\r\n\r\n${body}`), 'Expect: 200-ok', 'SHR_HTTP_EXPECTATION_FAILED', 417)
  refused(t, await rawRequest(base, 'CONNECT evil:443 HTTP/1.1\r\nHost: evil:443\r\n\r\n'), 'CONNECT', 'AGT_HTTP_BAD_REQUEST', 400)
  refused(t, await rawRequest(base, 'GET /v1/status HTTP/1.1\r\nConnection: close\r\n\r\n'), 'HTTP/1.1 without Host', 'AGT_HTTP_BAD_REQUEST', 400)
  // 100-continue is still met: the body is read and the change planned.
  const ok = await rawRequest(base, `POST /v1/plan HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: ${JSON_CT}\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
  t.match(ok.body, /"revision":1/, 'Expect: 100-continue is served')
  t.equal((await rawRequest(base, 'GET /health/live HTTP/1.0\r\n\r\n')).status, 200, 'HTTP/1.0 needs no Host')
})

t.test('numbers and booleans in a query are read from their plain form only', async t => {
  const before = core.calls.length
  for (const q of ['limit=1.5', 'limit=0x10', 'limit=1e3', 'limit=', 'limit=%20', 'limit=true', 'limit=+5', 'limit=007', 'follow=yes', 'follow=', 'follow=2']) {
    refused(t, await rawRequest(base, get(`/v1/journal?${q}`)), `journal ?${q}`, 'SHR_VALIDATION', 400)
  }
  refused(t, await rawRequest(base, post('/v1/apply?check=on', JSON_CT, '{"revision":1,"files":{}}')), 'apply ?check=on', 'SHR_VALIDATION', 400)
  for (const q of ['limit=2', 'follow=0', 'follow=false']) t.equal((await rawRequest(base, get(`/v1/journal?${q}`))).status, 200, `journal ?${q} is read`)
  t.same(core.calls.slice(before).filter(c => c.method === 'apply'), [], 'no apply ran')
})

t.test('a route that takes no query parameter refuses an unknown one and does nothing', async t => {
  const before = core.calls.length
  const cases: Array<[string, string | Buffer]> = [
    ['rollback ?check=1', post('/v1/rollback?check=1', JSON_CT, '{}')],
    ['commit ?dryRun=1', post('/v1/stage/commit?dryRun=1', JSON_CT, '{"revision":1}')],
    ['plan ?x=1', post('/v1/plan?x=1', JSON_CT, '{"revision":1,"files":{}}')],
    ['stage ?x=1', post('/v1/stage?x=1', JSON_CT, '{"revision":1,"files":{}}')],
    ['discard ?revision=1', 'DELETE /v1/stage?revision=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
    ['discard with a body', `DELETE /v1/stage HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: ${JSON_CT}\r\nContent-Length: 16\r\n\r\n{"revision":123}`],
    [`status ?token=${SECRET}`, get(`/v1/status?token=${SECRET}`)]
  ]
  for (const [what, payload] of cases) refused(t, await rawRequest(base, payload), what, 'SHR_VALIDATION', 400)
  t.same(core.calls.slice(before).filter(c => c.method !== 'status' && c.method !== 'ready'), [], 'no plan, apply, stage, commit, discard or rollback ran')
  t.equal((await rawRequest(base, get('/health/live?probe=1'))).status, 200, 'probes stay lenient')
})

t.test('a journal cursor of the schema\'s form that journald cannot read is a 400, not a 502', async t => {
  const reads = core.journal.calls.length
  for (const q of ['after=s%3D1', 'after=i%3D5', 'after=s%3D1%3Bi%3D5&follow=1', 'after=t%3D']) {
    refused(t, await rawRequest(base, get(`/v1/journal?${q}`)), `journal ?${q}`, 'SHR_VALIDATION', 400)
  }
  t.equal(core.journal.calls.length, reads, 'journalctl was not run')
})

t.test('NUL and lone surrogates in a change are refused, never written as something else', async t => {
  const before = core.calls.length
  // Written as JSON escapes: a lone surrogate would reach the file as U+FFFD, another value than planned.
  const bodies: Array<[string, string]> = [
    ['config value with a lone surrogate', '{"revision":3,"files":{"config":{"set":{"a":"x\\ud800"}}}}'],
    ['config value with a lone low surrogate', '{"revision":3,"files":{"config":{"set":{"a":["\\udc00"]}}}}'],
    ['config path with a lone surrogate', '{"revision":3,"files":{"config":{"set":{"a\\ud800":1}}}}'],
    ['nested key with a lone surrogate', '{"revision":3,"files":{"config":{"set":{"a":{"\\udbff":1}}}}}'],
    ['delete path with a lone surrogate', '{"revision":3,"files":{"config":{"delete":["a\\ud800"]}}}'],
    ['env value with a lone surrogate', '{"revision":3,"files":{"env":{"set":{"A":"\\ud800"}}}}'],
    ['secret with a lone surrogate', '{"revision":3,"files":{"env":{"set":{"A":{"$secret":"\\ud800"}}}}}'],
    ['config value with NUL', '{"revision":3,"files":{"config":{"set":{"a":"x\\u0000y"}}}}'],
    ['config path with NUL', '{"revision":3,"files":{"config":{"set":{"a\\u0000b":1}}}}'],
    ['nested key with NUL', '{"revision":3,"files":{"config":{"set":{"a":{"\\u0000":1}}}}}'],
    ['config secret with NUL', `{"revision":3,"files":{"config":{"set":{"auth.key":{"$secret":"${SECRET}\\u0000"}}}}}`]
  ]
  for (const [what, body] of bodies) {
    for (const route of ['/v1/plan', '/v1/apply', '/v1/stage']) refused(t, await rawRequest(base, post(route, JSON_CT, body)), `${route} ${what}`, 'SHR_CHANGE_INVALID', 400)
  }
  const yaml = await rawRequest(base, post('/v1/plan', 'application/yaml', 'revision: 3\nfiles:\n  config:\n    set:\n      a: "x\\0y"\n'))
  refused(t, yaml, 'YAML "\\0" escape', 'SHR_CHANGE_INVALID', 400)
  t.same(core.calls.slice(before), [], 'nothing was planned, applied or staged')
  const ok = await rawRequest(base, post('/v1/plan', JSON_CT, '{"revision":3,"files":{"config":{"set":{"a":"\\ud83d\\ude00 caf\\u00e9"}}}}'))
  t.equal(ok.status, 200, 'a surrogate pair (an emoji) and other text are fine')
})

t.test('preflight: external servers that cannot be reached as written are refused before any connection', async t => {
  const key = 'k1:' + 'A'.repeat(43)
  for (const servers of [['kms:0'], ['kms:99999'], ['[::1'], ['::1'], ['kms:'], ['...'], ['kms:7373', 'KMS']]) {
    refused(t, await rawRequest(base, post('/v1/preflight/external-kms', JSON_CT, JSON.stringify({ servers, enclave: 'e', key: 'k', apiKey: { $secret: key } }))), `servers ${JSON.stringify(servers)}`, 'SHR_VALIDATION', 400)
  }
  t.same(preflightCalls, [], 'the preflight ran for none of them')
  const ok = await rawRequest(base, post('/v1/preflight/external-kms', JSON_CT, JSON.stringify({ servers: ['kms1.example', '[fd00::1]:7374'], enclave: 'e', key: 'k', apiKey: { $secret: SECRET } })))
  t.equal(ok.status, 200)
  t.same(preflightCalls, [['kms1.example:7373', '[fd00::1]:7374']], 'checked with the port written out')
})

t.test('YAML: an alias without its anchor is a 400 (was a 500), a list or mapping as a key too', async t => {
  const before = core.calls.length
  const head = 'revision: 3\nfiles:\n  config:\n    set:\n'
  const specs: Array<[string, string, string]> = [
    ['alias without anchor', `${head}      a: &a x\n      b: *a\n      c: *nope\n`, 'SHR_CHANGE_SPEC_SYNTAX'],
    ['alias as the revision', 'revision: *r\nfiles: {}\n', 'SHR_CHANGE_SPEC_SYNTAX'],
    ['alias before its anchor', `${head}      b: *a\n      a: &a x\n`, 'SHR_CHANGE_SPEC_SYNTAX'],
    ['a list as a key', `${head}      ? [a, b]\n      : x\n`, 'SHR_CHANGE_SPEC_SYNTAX'],
    ['a mapping as a key', `${head}      ? {a: 1}\n      : x\n`, 'SHR_CHANGE_SPEC_SYNTAX'],
    ['5,000 flow levels', `${head}      a: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}\n`, 'SHR_CHANGE_TOO_DEEP']
  ]
  for (const [what, spec, code] of specs) {
    for (const route of ['/v1/plan', '/v1/apply', '/v1/stage']) refused(t, await rawRequest(base, post(route, 'application/yaml', spec)), `${route} ${what}`, code, 400)
  }
  t.same(core.calls.slice(before), [], 'nothing was planned, applied or staged')
})

t.test('afterwards: no 5xx, no error logged, no secret in the log', async t => {
  t.notOk(lines.some(l => /"statusCode":5\d\d/.test(l) || /"level":50/.test(l)), 'no 5xx and no error logged')
  t.notOk(lines.some(l => l.includes(SECRET_CORE)), 'no log line holds the secret')
})
