import t from 'tap'
import { Value } from 'typebox/value'
import { AgentStatusSchema } from '../../../shared/schemas/agent-status.js'
import { buildTestAgent } from '../../helpers/fake-agent-core.js'

t.test('GET /v1/status returns the core status in the wire schema', async t => {
  const { app, core } = await buildTestAgent(t)
  await app.inject({ method: 'POST', url: '/v1/apply', payload: { revision: 3, files: { env: { set: { MINIO_KMS_OPTS: '--quiet' } } } } })
  const r = await app.inject('/v1/status')
  t.equal(r.statusCode, 200)
  const body = r.json()
  t.ok(Value.Check(AgentStatusSchema, body), 'matches AgentStatusSchema')
  t.match(body, { node: 'node1', unit: { name: 'minkms.service', status: { activeState: 'active' } }, appliedRevision: 3, desiredRevision: 3, applying: false, lastResult: { result: 'changed', revision: 3 } })
  t.notOk('plan' in body.lastResult, 'the last result has no plan')
  t.ok(core.calls.some(c => c.method === 'status'))
})

t.test('fields the schema does not declare are not serialised', async t => {
  const { app } = await buildTestAgent(t, { coreOptions: { leaky: true } })
  await app.inject({ method: 'POST', url: '/v1/plan', payload: { revision: 1, files: { env: { set: { A: 'b' } } } } })
  const r = await app.inject('/v1/status')
  t.equal(r.statusCode, 200)
  t.notOk('debug' in r.json(), 'the core\'s extra debug field is dropped')
})

t.test('a failing status: 500 with a generic message', async t => {
  const { app, core } = await buildTestAgent(t)
  core.status = async () => { throw new Error('state file /var/lib/keyroll-agent/state.json is corrupt') }
  const r = await app.inject('/v1/status')
  t.equal(r.statusCode, 500)
  t.equal(r.json().code, 'SHR_INTERNAL')
  t.notMatch(r.body, /state\.json/)
})
