// The coordinator's API under hostile input, over real HTTP on loopback: every refusal is a 4xx
// with `{ code, message, statusCode }`, nothing answers 5xx or reaches the engine, Object.prototype
// gains nothing, and /health/live keeps answering throughout. Then the secrets grep: a `$secret`
// sent in plan and rollout bodies (valid and invalid ones) never shows in a response or a log line.
import t, { type Test } from 'tap'
import { connect } from 'node:net'
import { request } from 'undici'
import { answerOf, get, post, rawRequest, type RawAnswer } from '../helpers/raw-http.js'
import { prototypeKeys } from '../helpers/real-agent.js'
import { buildTestCoordinator } from '../helpers/coordinator-app.js'

const PROTO = prototypeKeys()
const c = await buildTestCoordinator(t, { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } })
const base = await c.app.listen({ host: '127.0.0.1', port: 0 })
const AUTH = `Authorization: Bearer ${c.operatorToken}\r\n`
const SECRET = 'k2:SuperSecretValueThatMustNeverLeak_0123456789abcdef'
const SECRET_CORE = 'SuperSecretValueThatMustNeverLeak'

let liveFailures = 0
let slowestLiveMs = 0
const polling = new AbortController()
const poller = (async () => {
  let start = performance.now()
  while (!polling.signal.aborted) {
    try {
      const res = await request(`${base}/health/live`, { headersTimeout: 5000 })
      await res.body.text()
      if (res.statusCode !== 200) liveFailures++
    } catch { liveFailures++ }
    slowestLiveMs = Math.max(slowestLiveMs, performance.now() - start)
    start = performance.now() + 50
    await new Promise(resolve => setTimeout(resolve, 50))
  }
})()

/** With the operator token. */
function authed (payload: string): string {
  return payload.replace('\r\n', `\r\n${AUTH}`)
}

function refused (t: Test, a: RawAnswer, what: string, code?: string | RegExp): void {
  t.ok(a.status >= 400 && a.status < 500, `${what}: 4xx (got ${a.status})`)
  let body: { code?: unknown } = {}
  try { body = JSON.parse(a.body) } catch { t.fail(`${what}: JSON body (got ${a.body.slice(0, 80)})`) }
  t.match(body, { code: String, message: String, statusCode: a.status }, `${what}: { code, message, statusCode }`)
  if (code !== undefined) t.match(body.code, code, `${what}: code`)
  t.notOk(a.body.includes(SECRET_CORE), `${what}: no secret in the answer`)
}

const JSON_CT = 'application/json'
const YAML_CT = 'application/yaml'
const plan = (change: unknown, cluster: unknown = 'c1'): string => JSON.stringify({ cluster, change })

t.test('more than 30 hostile requests: 4xx with a code, never 5xx, the engine never asked', async t => {
  const nested = (n: number): string => '['.repeat(n) + '1' + ']'.repeat(n)
  const cases: Array<[string, string | Buffer, (string | RegExp)?]> = [
    ['no token', post('/v1/plans', JSON_CT, plan({ revision: 1, files: {} })), 'CRD_UNAUTHENTICATED'],
    ['token in the query', post(`/v1/plans?token=${c.operatorToken}`, JSON_CT, '{}'), 'CRD_UNAUTHENTICATED'],
    ['viewer writes', post('/v1/plans', JSON_CT, '{}').toString().replace('\r\n', `\r\nAuthorization: Bearer ${c.viewerToken}\r\n`), 'CRD_FORBIDDEN'],
    ['empty object', authed(post('/v1/plans', JSON_CT, '{}').toString()), 'SHR_VALIDATION'],
    ['array', authed(post('/v1/plans', JSON_CT, '[]').toString())],
    ['null', authed(post('/v1/plans', JSON_CT, 'null').toString())],
    ['truncated JSON', authed(post('/v1/plans', JSON_CT, '{"cluster":').toString()), 'SHR_CHANGE_SPEC_SYNTAX'],
    ['duplicate keys', authed(post('/v1/plans', JSON_CT, '{"cluster":"c1","cluster":"c2","change":{}}').toString()), 'SHR_CHANGE_SPEC_SYNTAX'],
    ['__proto__ envelope', authed(post('/v1/plans', JSON_CT, '{"cluster":"c1","__proto__":{"polluted":1},"change":{}}').toString()), 'SHR_CHANGE_SPEC_SYNTAX'],
    ['__proto__ path', authed(post('/v1/plans', JSON_CT, plan({ revision: 1, files: { config: { set: { '__proto__.polluted': 1 } } } })).toString()), 'SHR_CHANGE_INVALID'],
    ['constructor.prototype path', authed(post('/v1/plans', JSON_CT, plan({ revision: 1, files: { config: { set: { 'constructor.prototype.x': 1 } } } })).toString()), 'SHR_CHANGE_INVALID'],
    ['JSON 10,000 deep', authed(post('/v1/plans', JSON_CT, `{"cluster":"c1","change":${nested(10_000)}}`).toString()), 'SHR_CHANGE_TOO_DEEP'],
    ['YAML 1,000 deep', authed(post('/v1/plans?cluster=c1', YAML_CT, `revision: 1\nfiles:\n  config:\n    set:\n      a: ${nested(1000)}\n`).toString()), /^SHR_CHANGE_(TOO_DEEP|SPEC_SYNTAX)$/],
    ['billion laughs', authed(post('/v1/plans?cluster=c1', YAML_CT, `revision: 1\nfiles:\n  config:\n    set:\n      y: [${Array(2000).fill('*x').join(',')}]\n      x: &x v\n`).toString()), /^SHR_CHANGE_/],
    ['YAML without ?cluster', authed(post('/v1/plans', YAML_CT, 'revision: 1\nfiles: {}\n').toString()), 'CRD_BAD_INPUT'],
    ['YAML two documents', authed(post('/v1/plans?cluster=c1', YAML_CT, 'revision: 1\n---\nrevision: 2\n').toString())],
    ['revision 1e300', authed(post('/v1/plans', JSON_CT, '{"cluster":"c1","change":{"revision":1e300,"files":{}}}').toString()), 'SHR_CHANGE_INVALID'],
    ['cluster traversal', authed(post('/v1/plans', JSON_CT, plan({ revision: 1, files: {} }, '../../etc')).toString()), 'SHR_VALIDATION'],
    ['cluster object', authed(post('/v1/plans', JSON_CT, plan({ revision: 1, files: {} }, { $ne: 1 })).toString()), 'SHR_VALIDATION'],
    ['unknown cluster', authed(post('/v1/plans', JSON_CT, plan({ revision: 1, files: {} }, 'nope')).toString()), 'CRD_NOT_FOUND'],
    ['2 MB body', authed(post('/v1/plans', JSON_CT, `{"cluster":"c1","change":{"x":"${'a'.repeat(2 * 1024 * 1024)}"}}`).toString()), 'CRD_BODY_TOO_LARGE'],
    ['20 KB steer body', authed(post('/v1/rollouts/r1/pause', JSON_CT, JSON.stringify({ x: 'y'.repeat(20_000) })).toString()), 'CRD_BODY_TOO_LARGE'],
    ['text/plain', authed(post('/v1/plans', 'text/plain', 'cluster=c1').toString())],
    ['form body', authed(post('/v1/plans', 'application/x-www-form-urlencoded', 'cluster=c1').toString())],
    ['rollout without planHash', authed(post('/v1/rollouts', JSON_CT, plan({ revision: 1, files: {} })).toString()), 'SHR_VALIDATION'],
    ['rollout bad strategy', authed(post('/v1/rollouts', JSON_CT, JSON.stringify({ cluster: 'c1', change: { revision: 1, files: {} }, planHash: 'x', strategy: { maxParallel: 1e9 } })).toString()), 'SHR_VALIDATION'],
    ['rollout id traversal', authed(get('/v1/rollouts/..%2F..%2Fetc')), /^(SHR_VALIDATION|CRD_NOT_FOUND)$/],
    ['events from=-1', authed(get('/v1/rollouts/r1/events?from=-1')), 'SHR_VALIDATION'],
    ['events huge from', authed(get('/v1/rollouts/r1/events?from=99999999999999999999')), 'SHR_VALIDATION'],
    ['Last-Event-ID garbage', authed(get('/v1/rollouts/r1/events').replace('\r\n\r\n', '\r\nLast-Event-ID: ../1\r\n\r\n')), 'SHR_VALIDATION'],
    ['audit from=0', authed(get('/v1/audit?from=0')), 'SHR_VALIDATION'],
    ['audit limit=x', authed(get('/v1/audit?limit=x')), 'SHR_VALIDATION'],
    ['nodes unknown query', authed(get('/v1/nodes?x=1')), 'SHR_VALIDATION'],
    ['slot without a certificate', post('/v1/convergence/slots', JSON_CT, '{"node":"node1","unit":"minkms.service","revision":1}'), 'CRD_CLIENT_CERT_REQUIRED'],
    ['slot bad unit', post('/v1/convergence/slots', JSON_CT, '{"node":"node1","unit":"../x","revision":1}'), 'SHR_VALIDATION'],
    ['unknown route', authed(get('/v1/unknown')), 'CRD_NOT_FOUND'],
    ['path traversal', get('/../../etc/passwd')],
    ['DELETE a rollout', authed('DELETE /v1/rollouts/r1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')],
    ['bad chunk size', 'POST /v1/plans HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', /^CRD_HTTP_/],
    ['CL and TE', 'POST /v1/plans HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /^CRD_HTTP_/],
    ['NUL in a header', 'GET /health/live HTTP/1.1\r\nHost: a\r\nX-A: b\u0000c\r\n\r\n', /^CRD_HTTP_/],
    ['huge header', `GET /health/live HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 'CRD_HTTP_HEADERS_TOO_LARGE'],
    ['bad method', 'GE T / HTTP/1.1\r\nHost: a\r\n\r\n', /^CRD_HTTP_/]
  ]
  for (const [what, payload, code] of cases) refused(t, await rawRequest(base, payload), what, code)
  t.ok(cases.length >= 30, `${cases.length} hostile requests`)
  t.same(c.control.calls.filter(x => x.method !== 'plan' || x.cluster !== 'nope'), [], 'the engine was not asked (but for the unknown cluster, which it refused)')
  t.same(c.slots.calls, [])
  t.same(prototypeKeys(), PROTO, 'Object.prototype unchanged')
  t.equal(({} as Record<string, unknown>).polluted, undefined)
})

t.test('stalled requests are closed with 408; slow headers do not starve /health/live', async t => {
  const port = Number(new URL(base).port)
  const stalled = await Promise.all(Array.from({ length: 10 }, async () => await answerOf(connect(port, '127.0.0.1'), `POST /v1/plans HTTP/1.1\r\nHost: a\r\n${AUTH}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"cluster":`, 10_000)))
  for (const a of stalled) refused(t, a, 'stalled body', 'CRD_HTTP_REQUEST_TIMEOUT')
  const slow = Array.from({ length: 100 }, async () => await answerOf(connect(port, '127.0.0.1'), 'GET /health/live HTTP/1.1\r\nHost: a\r\nX-Slow: ', 10_000))
  const live = await request(`${base}/health/live`)
  t.equal(live.statusCode, 200)
  await live.body.text()
  t.ok((await Promise.all(slow)).every(a => a.status === 408 || a.status === 0), 'slow connections closed by the headers timeout')
})

t.test('secrets: a $secret in plan and rollout bodies never shows in an answer or the log', async t => {
  const change = { revision: 5, files: { env: { set: { MINIO_KMS_API_KEY: { $secret: SECRET } } }, config: { set: { 'auth.key': { $secret: SECRET } } } } }
  const answers: string[] = []
  const send = async (path: string, body: string, ct = JSON_CT): Promise<string> => {
    const res = await request(`${base}${path}`, { method: 'POST', headers: { ...c.operator, 'content-type': ct }, body })
    const text = await res.body.text()
    answers.push(text)
    return text
  }
  const planned = JSON.parse(await send('/v1/plans', JSON.stringify({ cluster: 'c1', change })))
  t.match(planned, { planHash: String })
  await send('/v1/rollouts', JSON.stringify({ cluster: 'c1', change, planHash: planned.planHash }))
  await send('/v1/plans?cluster=c1', `revision: 5\nfiles:\n  env:\n    set:\n      MINIO_KMS_API_KEY: !secret ${SECRET}\n`, YAML_CT)
  // Refused ones, whose errors might quote the input.
  await send('/v1/plans', JSON.stringify({ cluster: 'c1', change: { ...change, revision: 0 } }))
  await send('/v1/plans', JSON.stringify({ cluster: 'c1', change: { revision: 5, files: { env: { set: { [SECRET]: 'x' } } } } }))
  await send('/v1/plans', JSON.stringify({ cluster: 'c1', change: { revision: 5, files: { env: { set: { A: `${SECRET}\n` } } } } }))
  await send('/v1/plans', `{"cluster":"c1","change":{"revision":5,"files":{"env":{"set":{"A":"${SECRET}"`)
  await send('/v1/plans?cluster=c1', `revision: 5\nfiles:\n  env:\n    set:\n      A: !secret ${SECRET}\n    - broken\n`, YAML_CT)
  await send('/v1/rollouts', JSON.stringify({ cluster: 'c1', change, planHash: SECRET }))
  await send('/v1/plans', JSON.stringify({ cluster: 'c1', change, [SECRET]: 1 }))
  const events = await request(`${base}/v1/rollouts/r1/events?follow=0`, { headers: c.viewer })
  answers.push(await events.body.text())
  const list = await request(`${base}/v1/rollouts`, { headers: c.viewer })
  answers.push(await list.body.text())
  t.equal(answers.length, 12)
  t.same(answers.flatMap((a, i) => a.includes(SECRET_CORE) ? [`${i}: ${a.slice(0, 300)}`] : []), [], 'no answer holds the secret')
  t.notOk(c.lines.some(l => l.includes(SECRET_CORE)), 'no log line holds the secret')
  t.ok(c.control.calls.some(x => JSON.stringify(x.change ?? {}).includes(SECRET_CORE)), 'the secret did reach the engine (the wire change)')
})

t.test('afterwards: no 5xx, /health/live answered throughout', async t => {
  polling.abort()
  await poller
  t.equal(liveFailures, 0, '/health/live never failed')
  t.ok(slowestLiveMs < 2000, `/health/live slowest answer ${slowestLiveMs.toFixed(0)} ms`)
  t.notOk(c.lines.some(l => /"statusCode":5\d\d/.test(l) || /"level":50/.test(l)), 'no 5xx and no error logged')
})
