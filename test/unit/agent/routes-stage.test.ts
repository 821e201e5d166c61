// POST /v1/stage, /v1/stage/commit and DELETE /v1/stage over the real applier (real files and
// state directory, fakes where systemd would be): the contract of shared/schemas/staged.ts, the
// refusals as plain 409s, hostile bodies as 4xx that touch nothing, and no secret in any answer.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { Compile } from 'typebox/compile'
import { AgentStatusSchema } from '../../../shared/schemas/agent-status.js'
import { ApplyEventSchema, ApplyResultSchema } from '../../../shared/schemas/apply.js'
import { DiscardStagedSchema, StagedChangeSchema } from '../../../shared/schemas/staged.js'
import { API_KEY, hsmSpec } from '../../helpers/applier-fixture.js'
import { snapshotFiles, startRealAgent } from '../../helpers/real-agent.js'

const isStaged = Compile(StagedChangeSchema)
const isStatus = Compile(AgentStatusSchema)
const isEvent = Compile(ApplyEventSchema)
const isResult = Compile(ApplyResultSchema)
const restarts = (calls: string[]): number => calls.filter(c => c === 'restart').length

function ndjson (body: string): Array<Record<string, unknown>> {
  return body.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
}

const ENV_CHANGE = (revision: number, value = 'x'): Record<string, unknown> => ({ revision, files: { env: { set: { MINIO_KMS_TEST: value } } }, verify: { deadline: '10s', stableFor: '0s' } })

t.test('stage, status, commit: the staged change runs as an apply stream', async t => {
  const a = await startRealAgent(t)
  const before = await snapshotFiles(a)
  const s = await a.app.inject({ method: 'POST', url: '/v1/stage', payload: hsmSpec(1) })
  t.equal(s.statusCode, 200)
  t.ok(isStaged.Check(s.json()), 'a StagedChange')
  t.match(s.json(), { revision: 1, plan: { changed: true, restart: true } })
  t.equal(await snapshotFiles(a), before, 'nothing written')
  t.equal(restarts(a.service.calls), 0)

  const st = (await a.app.inject({ method: 'GET', url: '/v1/status' })).json()
  t.ok(isStatus.Check(st))
  t.same(Object.keys(st.staged).sort(), ['expiresAt', 'revision', 'stagedAt'], 'status shows revision and times only')
  t.equal(st.staged.revision, 1)
  t.equal(st.staged.expiresAt, s.json().expiresAt)

  const c = await a.app.inject({ method: 'POST', url: '/v1/stage/commit', payload: { revision: 1 } })
  t.equal(c.statusCode, 200)
  t.match(c.headers['content-type'], /application\/x-ndjson/)
  const lines = ndjson(c.body)
  const events = lines.slice(0, -1)
  t.ok(events.every(e => isEvent.Check(e)), 'event lines')
  t.same(events.map(e => `${String(e.step)}:${String(e.status)}`).slice(0, 3), ['lock:done', 'plan:done', 'validate:done'])
  t.ok(events.some(e => e.step === 'restart' && e.status === 'done'))
  const last = lines.at(-1) as { result: unknown }
  t.ok(isResult.Check(last.result))
  t.match(last.result, { result: 'changed', revision: 1, restarted: true })
  t.not(await snapshotFiles(a), before, 'written by the commit')
  t.equal(restarts(a.service.calls), 1)
  const after = (await a.app.inject({ method: 'GET', url: '/v1/status' })).json()
  t.equal(after.staged, undefined, 'consumed')
  t.equal(after.appliedRevision, 1)
})

t.test('stage takes the YAML spec file as apply does', async t => {
  const a = await startRealAgent(t)
  const yaml = 'revision: 3\nfiles:\n  env:\n    set:\n      MINIO_KMS_TEST: y\nverify: { deadline: 10s, stableFor: 0s }\n'
  const r = await a.app.inject({ method: 'POST', url: '/v1/stage', headers: { 'content-type': 'application/yaml' }, payload: yaml })
  t.equal(r.statusCode, 200)
  t.equal(r.json().revision, 3)
})

t.test('refusals of a commit are plain 409 JSON errors, not streams; nothing written', async t => {
  const a = await startRealAgent(t)
  const before = await snapshotFiles(a)
  const none = await a.app.inject({ method: 'POST', url: '/v1/stage/commit', payload: { revision: 1 } })
  t.equal(none.statusCode, 409)
  t.match(none.headers['content-type'], /application\/json/)
  t.match(none.json(), { code: 'AGT_NOT_STAGED', statusCode: 409 })

  t.equal((await a.app.inject({ method: 'POST', url: '/v1/stage', payload: ENV_CHANGE(1) })).statusCode, 200)
  const other = await a.app.inject({ method: 'POST', url: '/v1/stage/commit', payload: { revision: 2 } })
  t.match(other.json(), { code: 'AGT_NOT_STAGED', message: /revision 1 is/ })

  await writeFile(a.files.config, '# edited by hand\nversion: v1\n', { mode: 0o640 })
  const edited = await snapshotFiles(a)
  const stale = await a.app.inject({ method: 'POST', url: '/v1/stage/commit', payload: { revision: 1 } })
  t.equal(stale.statusCode, 409)
  t.match(stale.json(), { code: 'AGT_STAGED_STALE' })
  t.match(stale.json().message, a.files.config, 'names the file that changed')
  t.equal(await snapshotFiles(a), edited, 'nothing written')
  t.not(edited, before)
  t.equal((await a.app.inject({ method: 'GET', url: '/v1/status' })).json().staged, undefined, 'dropped')
  t.equal(restarts(a.service.calls), 0)
})

t.test('stage refusals as apply: stale revision, conflicting revision (409), invalid result (400)', async t => {
  const a = await startRealAgent(t)
  t.equal((await a.app.inject({ method: 'POST', url: '/v1/apply', payload: ENV_CHANGE(2) })).statusCode, 200)
  t.match((await a.app.inject({ method: 'POST', url: '/v1/stage', payload: ENV_CHANGE(1) })).json(), { code: 'AGT_STALE_REVISION', statusCode: 409 })
  t.match((await a.app.inject({ method: 'POST', url: '/v1/stage', payload: ENV_CHANGE(2, 'other') })).json(), { code: 'AGT_REVISION_CONFLICT', statusCode: 409 })
  const invalid = await a.app.inject({ method: 'POST', url: '/v1/stage', payload: { revision: 3, files: { config: { set: { 'hsm.minio.minkms': { server: [], enclave: 'e', key: 'k', auth: { key: 'k1:nope' } } } } } } })
  t.match(invalid.json(), { code: 'AGT_INVALID_RESULT', statusCode: 400 })
})

t.test('hostile bodies: 4xx with a code, nothing touched, the staged change kept', async t => {
  const a = await startRealAgent(t)
  t.equal((await a.app.inject({ method: 'POST', url: '/v1/stage', payload: ENV_CHANGE(1) })).statusCode, 200)
  const before = await snapshotFiles(a)
  const commits: Array<[string, { payload?: string, headers?: Record<string, string> }]> = [
    ['revision as a string', { payload: '{"revision":"1"}' }],
    ['a fractional revision', { payload: '{"revision":1.5}' }],
    ['revision 0', { payload: '{"revision":0}' }],
    ['a huge revision', { payload: '{"revision":1e300}' }],
    ['an extra field', { payload: '{"revision":1,"force":true}' }],
    ['a change spec instead', { payload: JSON.stringify(ENV_CHANGE(1)) }],
    ['an array', { payload: '[1]' }],
    ['null', { payload: 'null' }],
    ['no body', {}],
    ['broken JSON', { payload: '{"revision":' }],
    ['__proto__', { payload: '{"revision":1,"__proto__":{"polluted":true}}' }],
    ['YAML', { payload: 'revision: 1\n', headers: { 'content-type': 'application/yaml' } }],
    ['too large', { payload: JSON.stringify({ revision: 1, pad: 'x'.repeat(20_000) }) }]
  ]
  for (const [what, req] of commits) {
    const r = await a.app.inject({ method: 'POST', url: '/v1/stage/commit', headers: { 'content-type': 'application/json', ...req.headers }, ...(req.payload === undefined ? {} : { payload: req.payload }) })
    t.ok(r.statusCode >= 400 && r.statusCode < 500, `${what}: ${r.statusCode}`)
    t.type(r.json().code, 'string', `${what}: coded`)
  }
  const stages: Array<[string, string]> = [
    ['revision as a string', JSON.stringify({ ...ENV_CHANGE(2), revision: '2' })],
    ['an extra field', JSON.stringify({ ...ENV_CHANGE(2), force: true })],
    ['no files', '{"revision":2}'],
    ['empty', '']
  ]
  for (const [what, payload] of stages) {
    const r = await a.app.inject({ method: 'POST', url: '/v1/stage', headers: { 'content-type': 'application/json' }, payload })
    t.equal(r.statusCode, 400, `stage with ${what}: 400`)
    t.type(r.json().code, 'string')
  }
  t.equal(await snapshotFiles(a), before, 'files untouched')
  t.equal(restarts(a.service.calls), 0)
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'prototype clean')
  t.equal((await a.app.inject({ method: 'GET', url: '/v1/status' })).json().staged?.revision, 1, 'the staged change is still there')
  t.equal((await a.app.inject({ method: 'POST', url: '/v1/stage/commit', payload: { revision: 1 } })).statusCode, 200, 'and commits')
})

t.test('DELETE /v1/stage: the revision dropped, then null', async t => {
  const a = await startRealAgent(t)
  const none = await a.app.inject({ method: 'DELETE', url: '/v1/stage' })
  t.equal(none.statusCode, 200)
  t.same(none.json(), { discarded: null })
  await a.app.inject({ method: 'POST', url: '/v1/stage', payload: ENV_CHANGE(4) })
  const d = await a.app.inject({ method: 'DELETE', url: '/v1/stage' })
  t.ok(Compile(DiscardStagedSchema).Check(d.json()))
  t.same(d.json(), { discarded: 4 })
  t.match((await a.app.inject({ method: 'POST', url: '/v1/stage/commit', payload: { revision: 4 } })).json(), { code: 'AGT_NOT_STAGED' })
})

t.test('secrets: the staged API key is in no answer, status or log line', async t => {
  const a = await startRealAgent(t)
  const s = await a.app.inject({ method: 'POST', url: '/v1/stage', payload: hsmSpec(1, { apiKey: API_KEY }) })
  t.equal(s.statusCode, 200)
  const status = await a.app.inject({ method: 'GET', url: '/v1/status' })
  const c = await a.app.inject({ method: 'POST', url: '/v1/stage/commit', payload: { revision: 1 } })
  t.equal(c.statusCode, 200)
  for (const [what, text] of [['stage answer', s.body], ['status', status.body], ['commit stream', c.body], ['logs', a.lines.join('\n')]] as const) {
    t.notOk(text.includes(API_KEY), `${what}: no API key`)
  }
})
