import t from 'tap'
import { Value } from 'typebox/value'
import { ApplyEventSchema, ApplyResultSchema, PlanResultSchema } from '../../../shared/schemas/apply.js'
import { buildTestAgent } from '../../helpers/fake-agent-core.js'

const CHANGE = { revision: 12, files: { config: { set: { 'log.level': 'DEBUG' } }, env: { unset: ['MINIO_KMS_HSM_KEY'] } } }

function ndjson (body: string): Array<Record<string, unknown>> {
  t.ok(body.endsWith('\n'), 'stream ends with a newline')
  return body.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
}

t.test('POST /v1/plan: the plan, nothing applied', async t => {
  const { app, core } = await buildTestAgent(t)
  const r = await app.inject({ method: 'POST', url: '/v1/plan', payload: CHANGE })
  t.equal(r.statusCode, 200)
  t.ok(Value.Check(PlanResultSchema, r.json()))
  t.match(r.json(), { revision: 12, changed: true, restart: true, files: [{ name: 'config', changed: true }, { name: 'env', changed: true }] })
  t.same(core.calls.map(c => c.method), ['plan'])
  t.match(core.calls[0]?.input, CHANGE, 'the body reaches the core as sent, validated')
})

t.test('POST /v1/plan: bad input is 400 naming every problem', async t => {
  const { app } = await buildTestAgent(t)
  const r = await app.inject({ method: 'POST', url: '/v1/plan', payload: { revision: 0, files: { env: { set: { 'BAD-NAME': 'x' } } }, restart: 'sometimes' } })
  t.equal(r.statusCode, 400)
  const body = r.json()
  t.equal(body.code, 'SHR_CHANGE_INVALID')
  const paths = (body.problems as Array<{ path: string }>).map(p => p.path)
  t.ok(paths.includes('revision') && paths.includes('restart') && paths.some(p => p.includes('BAD-NAME')), paths.join(', '))
})

t.test('POST /v1/plan: no body, or neither JSON nor YAML', async t => {
  const { app } = await buildTestAgent(t)
  t.equal((await app.inject({ method: 'POST', url: '/v1/plan' })).statusCode, 400)
  const text = await app.inject({ method: 'POST', url: '/v1/plan', headers: { 'content-type': 'application/xml' }, payload: '<revision>1</revision>' })
  t.equal(text.statusCode, 415)
  t.match(text.json(), { code: 'SHR_UNSUPPORTED_MEDIA_TYPE', message: /application\/xml.*application\/json/ })
})

const YAML_SPEC = `# the spec file of the README
revision: 12
files:
  config:
    set:
      log.level: DEBUG
      hsm.minio.minkms:
        server: [kms0.hsm-cluster.example.net:7373]
        enclave: aistor-key-manager
        key: aistor-key-manager-hsm
        auth:
          key: !secret k1:jS5YyrW5IHdqbjBXtQbtgbEbz-G3W1_v1AsYdvATjfU
  env:
    unset: [MINIO_KMS_HSM_KEY]
`

t.test('POST /v1/plan and /v1/apply take the YAML spec file, !secret included', async t => {
  const { app, core } = await buildTestAgent(t)
  for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml; charset=utf-8']) {
    const r = await app.inject({ method: 'POST', url: '/v1/plan', headers: { 'content-type': type }, payload: YAML_SPEC })
    t.equal(r.statusCode, 200, type)
  }
  const input = core.calls.at(-1)?.input as { files: { config: { set: Record<string, { auth: { key: unknown } }> } } }
  t.same(input.files.config.set['hsm.minio.minkms']?.auth.key, { $secret: 'k1:jS5YyrW5IHdqbjBXtQbtgbEbz-G3W1_v1AsYdvATjfU' }, 'the core gets the JSON wire form')
  const apply = await app.inject({ method: 'POST', url: '/v1/apply', headers: { 'content-type': 'application/yaml' }, payload: YAML_SPEC })
  t.equal(apply.statusCode, 200)
  t.match(ndjson(apply.body).at(-1), { result: { result: 'changed', revision: 12 } })
  t.notMatch(apply.body, /jS5YyrW5IHdqbjBXtQbtgbEbz/, 'the secret is not echoed')
})

t.test('a bad YAML spec: 400 with the line, never the text', async t => {
  const { app, core } = await buildTestAgent(t)
  const broken = await app.inject({ method: 'POST', url: '/v1/apply', headers: { 'content-type': 'application/yaml' }, payload: 'revision: 1\nfiles:\n  env: { unset: [A, B\n  secret: k1:jS5YyrW5IHdqbjBXtQbtgbEbz-G3W1_v1AsYdvATjfU\n' })
  t.equal(broken.statusCode, 400)
  t.match(broken.json(), { code: 'SHR_CHANGE_SPEC_SYNTAX', message: /line \d+/ })
  t.notMatch(broken.body, /jS5YyrW5IHdqbjBXtQbtgbEbz/, 'the broken line is not quoted')
  const invalid = await app.inject({ method: 'POST', url: '/v1/plan', headers: { 'content-type': 'application/yaml' }, payload: 'revision: 1\nrestrat: always\nfiles: { env: { unset: [A] } }\n' })
  t.equal(invalid.statusCode, 400)
  t.match(invalid.json(), { code: 'SHR_CHANGE_INVALID', problems: [{ path: 'restrat', line: 2 }] })
  t.equal(core.calls.length, 0, 'nothing reached the core')
})

t.test('POST /v1/apply: NDJSON events, then one result line', async t => {
  const { app } = await buildTestAgent(t)
  const r = await app.inject({ method: 'POST', url: '/v1/apply', payload: CHANGE })
  t.equal(r.statusCode, 200)
  t.equal(r.headers['content-type'], 'application/x-ndjson; charset=utf-8')
  const lines = ndjson(r.body)
  const last = lines.pop()
  t.ok(lines.length > 5)
  for (const l of lines) t.ok(Value.Check(ApplyEventSchema, l), `event ${JSON.stringify(l)}`)
  t.same(lines.slice(0, 4).map(l => `${String(l.step)}:${String(l.status)}`), ['lock:done', 'plan:started', 'plan:done', 'validate:done'], 'held events are flushed in order')
  t.ok(Value.Check(ApplyResultSchema, last?.result), 'result line')
  t.match(last, { result: { result: 'changed', revision: 12, restarted: true, verdict: { ok: true } } })
})

t.test('POST /v1/apply?check=1: plan only', async t => {
  const { app, core } = await buildTestAgent(t)
  const r = await app.inject({ method: 'POST', url: '/v1/apply?check=1', payload: CHANGE })
  t.equal(r.statusCode, 200)
  t.match(ndjson(r.body).at(-1), { result: { result: 'changed', restarted: false } })
  t.equal(core.calls[0]?.check, true)
})

t.test('POST /v1/apply: bad input is a 400 JSON error, not a stream', async t => {
  const { app } = await buildTestAgent(t)
  const r = await app.inject({ method: 'POST', url: '/v1/apply', payload: { revision: 'twelve', files: {} } })
  t.equal(r.statusCode, 400)
  t.match(r.headers['content-type'], /^application\/json/)
  t.match(r.json(), { code: 'SHR_CHANGE_INVALID', problems: [{ path: 'revision' }] })
  t.equal((await app.inject({ method: 'POST', url: '/v1/apply?check=maybe', payload: CHANGE })).statusCode, 400, 'bad query')
})

t.test('POST /v1/apply while another apply runs: 409 before any streaming', async t => {
  const { app, core } = await buildTestAgent(t)
  let release: () => void = () => {}
  core.scripts.push({ gate: new Promise<void>(resolve => { release = resolve }) })
  const first = app.inject({ method: 'POST', url: '/v1/apply', payload: CHANGE })
  // The first apply holds the lock once status says so; no sleeping.
  while (!(await core.status()).applying) await new Promise(resolve => setImmediate(resolve))
  const second = await app.inject({ method: 'POST', url: '/v1/apply', payload: { ...CHANGE, revision: 13 } })
  t.equal(second.statusCode, 409)
  t.match(second.headers['content-type'], /^application\/json/)
  t.match(second.json(), { code: 'AGT_CHANGE_CONFLICT', message: /revision 12/ })
  release()
  const r = await first
  t.match(ndjson(r.body).at(-1), { result: { result: 'changed', revision: 12 } })
})

t.test('a refusal under the lock (after lock, plan and validate events) is still a plain 4xx', async t => {
  const { app, core } = await buildTestAgent(t)
  const stale = Object.assign(new Error('revision 12 is older than the applied revision 14; send a newer revision'), { code: 'AGT_STALE_REVISION', statusCode: 409 })
  core.scripts.push({ refuseUnderLock: stale })
  const r = await app.inject({ method: 'POST', url: '/v1/apply', payload: CHANGE })
  t.equal(r.statusCode, 409)
  t.same(r.json(), { code: 'AGT_STALE_REVISION', message: stale.message, statusCode: 409 })
})

t.test('a failed apply is still a 200 stream whose result says rolled-back', async t => {
  const { app, core } = await buildTestAgent(t)
  core.scripts.push({ result: 'rolled-back', failedStep: 'verify' })
  const lines = ndjson((await app.inject({ method: 'POST', url: '/v1/apply', payload: CHANGE })).body)
  t.ok(lines.some(l => l.step === 'verify' && l.status === 'failed'))
  t.ok(lines.some(l => l.step === 'verify-restore' && l.status === 'done'))
  t.match(lines.at(-1), { result: { result: 'rolled-back', failedStep: 'verify', verdict: { ok: false, reason: 'fatal-line' }, rollbackVerdict: { ok: true } } })
})

t.test('a crash after the stream started ends it with an error line (5xx generic)', async t => {
  const { app, core, lines: log } = await buildTestAgent(t)
  core.scripts.push({ throwAfterWrite: new Error('EIO writing /etc/minkms/.config.yaml.tmp') })
  const r = await app.inject({ method: 'POST', url: '/v1/apply', payload: CHANGE })
  t.equal(r.statusCode, 200)
  const last = ndjson(r.body).at(-1)
  t.match(last, { error: { code: 'SHR_INTERNAL', statusCode: 500, message: /^internal error/ } })
  t.notMatch(r.body, /EIO/)
  t.ok(log.some(l => l.includes('EIO writing')), 'the cause is in the log')
})

t.test('POST /v1/rollback: 409 when there is nothing to roll back, a stream otherwise', async t => {
  const { app } = await buildTestAgent(t)
  const none = await app.inject({ method: 'POST', url: '/v1/rollback' })
  t.equal(none.statusCode, 409)
  t.equal(none.json().code, 'AGT_NOTHING_TO_ROLL_BACK')
  await app.inject({ method: 'POST', url: '/v1/apply', payload: CHANGE })
  const r = await app.inject({ method: 'POST', url: '/v1/rollback', payload: {} })
  t.equal(r.statusCode, 200)
  t.match(ndjson(r.body).at(-1), { result: { revision: 11 } })
  const bad = await app.inject({ method: 'POST', url: '/v1/rollback', payload: { revision: 3 } })
  t.equal(bad.statusCode, 400, 'the rollback body takes no fields')
  t.match(bad.json(), { code: 'SHR_VALIDATION' })
})

t.test('heartbeats keep an idle apply stream alive', async t => {
  const { app, core } = await buildTestAgent(t, { heartbeatMs: 5 })
  let release: () => void = () => {}
  core.scripts.push({ gate: new Promise<void>(resolve => { release = resolve }) })
  const res = app.inject({ method: 'POST', url: '/v1/apply', payload: CHANGE, payloadAsStream: true })
  const stream = (await res).stream()
  let seen = ''
  for await (const chunk of stream) {
    seen += String(chunk)
    if (seen.includes('{}\n')) { release(); break }
  }
  t.match(seen, /^\{"step":"lock"/)
  t.match(seen, /\n\{\}\n/)
})
