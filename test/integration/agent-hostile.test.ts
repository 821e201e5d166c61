// The agent's API under hostile input, over real HTTP on loopback, with the real apply engine and
// real files: every refusal is a 4xx with the documented body `{ code, message, statusCode }`,
// nothing answers 5xx, Object.prototype gains nothing, no managed file changes, and /health/live
// keeps answering within 1 s throughout. One subtest per finding of the hostile-input review,
// then a table of more than 60 malformed or hostile requests.
import t, { type Test } from 'tap'
import { connect } from 'node:net'
import { request } from 'undici'
import { HTTP_EDGE_LIMITS } from '../../agent/http-edge.js'
import { answerOf, get, post, rawRequest, type RawAnswer } from '../helpers/raw-http.js'
import { prototypeKeys, snapshotFiles, startRealAgent } from '../helpers/real-agent.js'

const JSON_CT = 'application/json'
const YAML_CT = 'application/yaml'
const PROTO = prototypeKeys()
const agent = await startRealAgent(t, { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } })
const untouched = await snapshotFiles(agent)

// /health/live polled all along; the slowest answer is checked at the end.
let slowestLiveMs = 0
let liveFailures = 0
const polling = new AbortController()
const poller = (async () => {
  // Counted from when the probe was due: the poller shares the event loop with the server, so a
  // request that holds the loop delays the probe itself and must show as a slow answer.
  let start = performance.now()
  while (!polling.signal.aborted) {
    try {
      const res = await request(`${agent.base}/health/live`, { headersTimeout: 5000 })
      await res.body.text()
      if (res.statusCode !== 200) liveFailures++
    } catch { liveFailures++ }
    slowestLiveMs = Math.max(slowestLiveMs, performance.now() - start)
    start = performance.now() + 50
    await new Promise(resolve => setTimeout(resolve, 50))
  }
})()

function nested (depth: number, leaf = '1'): string {
  return '['.repeat(depth) + leaf + ']'.repeat(depth)
}

function change (set: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ revision: 3, files: { config: { set } }, ...extra })
}

/** Checks the documented 4xx error body and returns its code. */
function refused (t: Test, a: RawAnswer, what: string, code?: string | RegExp): void {
  t.ok(a.status >= 400 && a.status < 500, `${what}: 4xx (got ${a.status})`)
  let body: { code?: unknown, message?: unknown, statusCode?: unknown } = {}
  try { body = JSON.parse(a.body) } catch { t.fail(`${what}: JSON body (got ${a.body.slice(0, 80)})`) }
  t.match(body, { code: String, message: String, statusCode: a.status }, `${what}: { code, message, statusCode }`)
  if (code !== undefined) t.match(body.code, code, `${what}: code`)
}

t.test('finding 1: a dotted path through __proto__ is refused and pollutes nothing (JSON and YAML)', async t => {
  for (const path of ['__proto__.polluted', 'a.__proto__.polluted', 'constructor.prototype.polluted', 'a."__proto__"']) {
    refused(t, await rawRequest(agent.base, post('/v1/plan', JSON_CT, change({ [path]: 1 }))), `plan ${path}`, 'SHR_CHANGE_INVALID')
    refused(t, await rawRequest(agent.base, post('/v1/apply', JSON_CT, change({ [path]: 1 }))), `apply ${path}`, 'SHR_CHANGE_INVALID')
    refused(t, await rawRequest(agent.base, post('/v1/plan', YAML_CT, `revision: 3\nfiles:\n  config:\n    set:\n      '${path.replace(/'/g, "''")}': 1\n`)), `yaml ${path}`, 'SHR_CHANGE_INVALID')
  }
  refused(t, await rawRequest(agent.base, post('/v1/plan', YAML_CT, 'revision: 3\nfiles:\n  config:\n    set:\n      a: { __proto__: { polluted: 1 } }\n')), 'yaml __proto__ key in a value', 'SHR_CHANGE_INVALID')
  refused(t, await rawRequest(agent.base, post('/v1/plan', JSON_CT, '{"revision":3,"files":{"config":{"set":{"a":{"__proto__":{"polluted":1}}}}}}')), 'json __proto__ key', 'SHR_CHANGE_SPEC_SYNTAX')
  t.same(prototypeKeys(), PROTO, 'Object.prototype has no new property')
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  const metrics = await request(`${agent.base}/metrics`)
  t.equal(metrics.statusCode, 200, '/metrics still answers')
  await metrics.body.text()
})

t.test('finding 2: revisions are integers 1..2^53-1; 1e300 and 2^53+1 are refused', async t => {
  for (const revision of ['1e300', '9007199254740993', '9007199254740992', '0', '-1', '1.5']) {
    const body = `{"revision":${revision},"files":{"env":{"unset":["X"]}}}`
    refused(t, await rawRequest(agent.base, post('/v1/apply', JSON_CT, body)), `revision ${revision}`, 'SHR_CHANGE_INVALID')
  }
  t.equal(await agent.state.readApplied(), undefined, 'nothing was committed')
})

t.test('finding 4: deep nesting, alias bombs and bad cursors are 400s naming the problem', async t => {
  refused(t, await rawRequest(agent.base, post('/v1/plan', JSON_CT, change({ a: JSON.parse(nested(30)) }).replace('"a":', `"a":${nested(10_000)},"b":`))), 'JSON 10,000 deep', 'SHR_CHANGE_TOO_DEEP')
  refused(t, await rawRequest(agent.base, post('/v1/plan', JSON_CT, `{"revision":3,"files":{"config":{"set":{"a":${nested(1000)}}}}}`)), 'JSON 1,000 deep', 'SHR_CHANGE_TOO_DEEP')
  refused(t, await rawRequest(agent.base, post('/v1/plan', YAML_CT, `revision: 3\nfiles:\n  config:\n    set:\n      a: ${nested(1000)}\n`)), 'YAML 1,000 deep', /^SHR_CHANGE_(TOO_DEEP|SPEC_SYNTAX)$/)
  refused(t, await rawRequest(agent.base, post('/v1/plan', YAML_CT, `revision: 3\nfiles:\n  config:\n    set:\n      a: ${nested(10_000)}\n`)), 'YAML 10,000 deep', /^SHR_CHANGE_(TOO_DEEP|SPEC_SYNTAX)$/)
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  for (let i = 1; i < 9; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`)
  const bomb = `revision: 3\nfiles:\n  config:\n    set:\n${laughs.map(l => `      ${l}`).join('\n')}\n`
  refused(t, await rawRequest(agent.base, post('/v1/plan', YAML_CT, bomb)), 'billion laughs', 'SHR_CHANGE_YAML_ALIASES')
  for (const n of [10_000, 100_000]) {
    const many = `revision: 3\nfiles:\n  config:\n    set:\n      x: &x v\n      y: [${Array(n).fill('*x').join(',')}]\n`
    refused(t, await rawRequest(agent.base, post('/v1/plan', YAML_CT, many)), `${n} aliases`, /^(SHR_CHANGE_YAML_ALIASES|SHR_CHANGE_TOO_LARGE)$/)
  }
  for (const after of ['garbage', '--help', 'x%00y', '-n%201', 's=1;i=zz']) {
    refused(t, await rawRequest(agent.base, get(`/v1/journal?after=${after}`)), `cursor ${after}`, 'SHR_VALIDATION')
  }
})

t.test('finding 5: durations are bounded and JSON duplicate keys are refused', async t => {
  for (const deadline of ['99999999999999999999h', '2h', '3601s']) {
    refused(t, await rawRequest(agent.base, post('/v1/plan', JSON_CT, change({ a: 1 }, { verify: { deadline } }))), `deadline ${deadline}`, 'SHR_CHANGE_INVALID')
  }
  refused(t, await rawRequest(agent.base, post('/v1/plan', JSON_CT, change({ a: 1 }, { verify: { deadline: '1h', stableFor: '99999999999999999999h' } }))), 'stableFor overflow', 'SHR_CHANGE_INVALID')
  refused(t, await rawRequest(agent.base, post('/v1/apply', JSON_CT, '{"revision":1,"revision":2,"files":{}}')), 'duplicate revision', 'SHR_CHANGE_SPEC_SYNTAX')
  refused(t, await rawRequest(agent.base, post('/v1/plan', JSON_CT, '{"revision":1,"files":{"config":{"set":{"a":1,"a":2}}}}')), 'duplicate set key', 'SHR_CHANGE_SPEC_SYNTAX')
})

t.test('finding 6: the edge has timeouts, and parser errors have the documented body', async t => {
  const { initialConfig } = agent.app
  t.ok(agent.app.server.requestTimeout > 0 && (initialConfig.connectionTimeout ?? 0) > 0 && (initialConfig.keepAliveTimeout ?? 0) > 0 && agent.app.server.headersTimeout > 0, 'request, headers, connection and keep-alive timeouts set')
  t.ok(HTTP_EDGE_LIMITS.requestTimeoutMs > 0 && HTTP_EDGE_LIMITS.headersTimeoutMs > 0 && HTTP_EDGE_LIMITS.maxConnections > 0, 'the defaults are bounded')
  t.equal(agent.app.server.maxConnections, HTTP_EDGE_LIMITS.maxConnections)

  // Headers and part of a body, then silence: closed with 408 by the request timeout.
  const stalled = await Promise.all(Array.from({ length: 20 }, async () => {
    const s = connect(Number(new URL(agent.base).port), '127.0.0.1')
    return await answerOf(s, 'POST /v1/plan HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"revision":', 10_000)
  }))
  for (const a of stalled) refused(t, a, 'stalled body', 'AGT_HTTP_REQUEST_TIMEOUT')

  const framing: Array<[string, string]> = [
    ['bad chunk size', 'POST /v1/plan HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
    ['CL and TE', 'POST /v1/plan HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two Content-Length', 'POST /v1/plan HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
    ['NUL in a header', 'GET /health/live HTTP/1.1\r\nHost: a\r\nX-A: b\u0000c\r\n\r\n'],
    ['100 KB URL', `GET /health/live?x=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: a\r\n\r\n`],
    ['bad method', 'GE T / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['bad version', 'GET / HTTP/9.9\r\nHost: a\r\n\r\n'],
    ['LF only', 'GET /health/live HTTP/1.1\nHost: a\n\n'],
    ['header without colon', 'GET /health/live HTTP/1.1\r\nHost a\r\n\r\n'],
    ['negative Content-Length', 'POST /v1/plan HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n'],
    ['huge header', `GET /health/live HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`],
    ['space in header name', 'GET /health/live HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n'],
    ['bad transfer-encoding', 'POST /v1/plan HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked, x\r\n\r\n0\r\n\r\n']
  ]
  for (const [what, payload] of framing) refused(t, await rawRequest(agent.base, payload), what, /^AGT_HTTP_/)
})

t.test('more than 60 malformed or hostile requests: 4xx with a code, never 5xx', async t => {
  const bodies: Array<[string, string, string | Buffer, RegExp?]> = [
    ['empty JSON object', JSON_CT, '{}'],
    ['JSON array', JSON_CT, '[]'],
    ['JSON string', JSON_CT, '"x"'],
    ['JSON null', JSON_CT, 'null'],
    ['truncated JSON', JSON_CT, '{"revision":'],
    ['trailing comma', JSON_CT, '{"revision":1,}'],
    ['single quotes', JSON_CT, "{'revision':1}"],
    ['NaN', JSON_CT, '{"revision":NaN}'],
    ['NUL byte in JSON', JSON_CT, '{"revision":1,"files":{"env":{"set":{"A":"x\u0000y"}}}}'],
    ['escaped NUL in env value', JSON_CT, '{"revision":1,"files":{"env":{"set":{"A":"x\\u0000y"}}}}'],
    ['CR in env value', JSON_CT, '{"revision":1,"files":{"env":{"set":{"A":"x\\ry"}}}}'],
    ['bad env name', JSON_CT, '{"revision":1,"files":{"env":{"set":{"1A":"x"}}}}'],
    ['env __proto__', YAML_CT, 'revision: 1\nfiles:\n  env:\n    set:\n      __proto__: x\n'],
    ['unknown field', JSON_CT, '{"revision":1,"files":{},"x":1}'],
    ['unknown file', JSON_CT, '{"revision":1,"files":{"other":{}}}'],
    ['restart maybe', JSON_CT, '{"revision":1,"files":{},"restart":"maybe"}'],
    ['bad mode', JSON_CT, '{"revision":1,"files":{"config":{"mode":"0999"}}}'],
    ['mode without owner read', JSON_CT, '{"revision":1,"files":{"config":{"mode":"0044"}}}'],
    ['empty path', JSON_CT, '{"revision":1,"files":{"config":{"set":{"":1}}}}'],
    ['path a..b', JSON_CT, '{"revision":1,"files":{"config":{"set":{"a..b":1}}}}'],
    ['unterminated quote', JSON_CT, '{"revision":1,"files":{"config":{"set":{"\\"a":1}}}}'],
    ['overlapping paths', JSON_CT, '{"revision":1,"files":{"config":{"set":{"a":1,"a.b":2}}}}'],
    ['secret not a string', JSON_CT, '{"revision":1,"files":{"config":{"set":{"a":{"$secret":1}}}}}'],
    ['infinite number', JSON_CT, '{"revision":1,"files":{"config":{"set":{"a":1e400}}}}'],
    ['long string', JSON_CT, JSON.stringify({ revision: 1, files: { config: { set: { a: 'x'.repeat(70_000) } } } })],
    ['2,000 keys', JSON_CT, JSON.stringify({ revision: 1, files: { config: { set: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])) } } })],
    ['deadline 0s', JSON_CT, '{"revision":1,"files":{},"verify":{"deadline":"0s"}}'],
    ['deadline 1.5m', JSON_CT, '{"revision":1,"files":{},"verify":{"deadline":"1.5m"}}'],
    ['invalid YAML', YAML_CT, 'revision: [1\n'],
    ['YAML tabs', YAML_CT, 'revision: 1\nfiles:\n\tconfig: {}\n'],
    ['two YAML documents', YAML_CT, 'revision: 1\n---\nrevision: 2\n'],
    ['YAML duplicate key', YAML_CT, 'revision: 1\nrevision: 2\nfiles: {}\n'],
    ['YAML !secret on a map', YAML_CT, 'revision: 1\nfiles:\n  config:\n    set:\n      a: !secret { b: 1 }\n'],
    ['YAML unknown tag', YAML_CT, 'revision: !!binary aGk=\nfiles: {}\n'],
    ['YAML recursive alias', YAML_CT, 'revision: 1\nfiles:\n  config:\n    set:\n      a: &a [*a]\n'],
    ['YAML scalar root', YAML_CT, 'hello\n'],
    ['YAML NUL', YAML_CT, 'revision: 1\u0000\n'],
    ['text/plain', 'text/plain', 'revision: 1'],
    ['form body', 'application/x-www-form-urlencoded', 'revision=1'],
    ['xml', 'application/xml', '<change/>'],
    ['octet-stream', 'application/octet-stream', Buffer.from([0, 1, 2, 3])],
    ['bad charset', 'application/json; charset=utf-99', '{}'],
    ['empty content type', '', '{}']
  ]
  for (const [what, ct, body, code] of bodies) {
    const start = performance.now()
    refused(t, await rawRequest(agent.base, post('/v1/plan', ct, body)), what, code)
    t.comment(`${what}: ${(performance.now() - start).toFixed(0)} ms`)
  }
  const requests: Array<[string, string | Buffer]> = [
    ['20 MB body', `POST /v1/plan HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${20 * 1024 * 1024}\r\n\r\n{"revision":`],
    ['2 MB YAML', post('/v1/plan', YAML_CT, `revision: 1\n#${'x'.repeat(2 * 1024 * 1024)}\n`)],
    ['20 KB rollback body', post('/v1/rollback', JSON_CT, JSON.stringify({ x: 'y'.repeat(20_000) }))],
    ['rollback unknown field', post('/v1/rollback', JSON_CT, '{"force":true}')],
    ['rollback bad policy', post('/v1/rollback', JSON_CT, '{"restart":"sometimes"}')],
    ['rollback without history', post('/v1/rollback', JSON_CT, '{}')],
    ['apply ?check=maybe', post('/v1/apply?check=maybe', JSON_CT, '{}')],
    ['journal limit=0', get('/v1/journal?limit=0')],
    ['journal limit=x', get('/v1/journal?limit=x')],
    ['journal unknown query', get('/v1/journal?cursor=1')],
    ['journal follow=maybe', get('/v1/journal?follow=maybe')],
    ['journal huge limit', get('/v1/journal?limit=99999999999999999999')],
    ['garbage query on journal', get('/v1/journal?%%%=%')],
    ['unknown route', get('/v1/unknown')],
    ['path traversal', get('/../../etc/passwd')],
    ['DELETE status', 'DELETE /v1/status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
    ['GET plan', get('/v1/plan')],
    ['encoded NUL in path', get('/v1/status%00')]
  ]
  for (const [what, payload] of requests) {
    refused(t, await rawRequest(agent.base, payload), what)
  }
  t.ok(bodies.length + requests.length >= 60, `${bodies.length + requests.length} requests in this table (more in the subtests above)`)
})

t.test('200 connections that never finish their headers do not starve /health/live', async t => {
  const port = Number(new URL(agent.base).port)
  const closed = Array.from({ length: 200 }, async () => {
    const s = connect(port, '127.0.0.1')
    return await answerOf(s, 'GET /health/live HTTP/1.1\r\nHost: a\r\nX-Slow: ', 10_000)
  })
  const start = performance.now()
  const live = await request(`${agent.base}/health/live`)
  t.equal(live.statusCode, 200)
  await live.body.text()
  t.ok(performance.now() - start < 1000, '/health/live answered within 1 s while 200 slow connections are open')
  const answers = await Promise.all(closed)
  t.ok(answers.every(a => a.status === 408 || a.status === 0), 'every slow connection was closed by the headers timeout')
})

t.test('afterwards: no 5xx, files untouched, prototype clean, health answered within 1 s', async t => {
  polling.abort()
  await poller
  t.equal(await snapshotFiles(agent), untouched, 'no managed file was touched')
  t.same(prototypeKeys(), PROTO, 'Object.prototype unchanged')
  t.equal(liveFailures, 0, '/health/live never failed')
  t.ok(slowestLiveMs < 1000, `/health/live slowest answer ${slowestLiveMs.toFixed(0)} ms`)
  t.notOk(agent.lines.some(l => /"statusCode":5\d\d/.test(l) || /"level":50/.test(l)), 'no 5xx and no error logged')
})
