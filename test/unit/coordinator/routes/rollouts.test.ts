// Plans and rollouts over a FakeRolloutControl: happy paths, malformed bodies (400 naming the
// field), no token (401), viewer on a write (403), unknown ids (404) and the engine's 409s passed
// through with their codes.
import t from 'tap'
import { buildTestCoordinator } from '../../../helpers/coordinator-app.js'

const CHANGE = { revision: 4, files: { config: { set: { 'log.level': 'debug' } } } }
const JSON_CT = { 'content-type': 'application/json' }

t.test('plan then start: 200 plan with a hash, 201 rollout, the wire change and the actor reach the engine', async t => {
  const c = await buildTestCoordinator(t)
  const plan = await c.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE } })
  t.equal(plan.statusCode, 200, plan.body)
  const p = plan.json()
  t.match(p, { cluster: 'c1', revision: 4, planHash: /^[0-9a-f]{64}$/, change: { revision: 4, redacted: true }, nodes: [{ node: 'node1' }, { node: 'node2' }, { node: 'node3' }] })
  t.same(c.control.calls[0], { method: 'plan', cluster: 'c1', actor: 'bob', change: { revision: 4, files: { config: { set: { 'log.level': 'debug' }, delete: [] } } } }, 'defaults the spec did not write are left to each agent')

  const start = await c.app.inject({ method: 'POST', url: '/v1/rollouts', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE, planHash: p.planHash, strategy: { canary: true } } })
  t.equal(start.statusCode, 201, start.body)
  const r = start.json()
  t.match(r, { id: 'r1', cluster: 'c1', state: 'running', createdBy: 'bob', strategy: { canary: true, maxParallel: 1 } })
  t.equal(start.headers.location, '/v1/rollouts/r1')

  const list = await c.app.inject({ method: 'GET', url: '/v1/rollouts?cluster=c1', headers: c.viewer })
  t.equal(list.statusCode, 200)
  t.same(list.json().map((x: { id: string }) => x.id), ['r1'])
  const one = await c.app.inject({ method: 'GET', url: '/v1/rollouts/r1', headers: c.viewer })
  t.equal(one.statusCode, 200)
  t.equal(one.json().id, 'r1')
})

t.test('a YAML change spec body with ?cluster= (and ?planHash= to start)', async t => {
  const c = await buildTestCoordinator(t)
  const yaml = 'revision: 4\nfiles:\n  env:\n    set:\n      MINIO_KMS_API_KEY: !secret k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw\n'
  const plan = await c.app.inject({ method: 'POST', url: '/v1/plans?cluster=c1', headers: { ...c.operator, 'content-type': 'application/yaml' }, payload: yaml })
  t.equal(plan.statusCode, 200, plan.body)
  t.notMatch(plan.body, /xZnpcYtPdVMNLBBRaUO5HPEoK/, 'the secret is not in the answer')
  t.same(c.control.calls[0]?.change?.files.env?.set, { MINIO_KMS_API_KEY: { $secret: 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw' } }, 'the wire change carries the secret inward')
  const start = await c.app.inject({ method: 'POST', url: `/v1/rollouts?cluster=c1&planHash=${String(plan.json().planHash)}`, headers: { ...c.operator, 'content-type': 'application/yaml' }, payload: yaml })
  t.equal(start.statusCode, 201, start.body)

  const noCluster = await c.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...c.operator, 'content-type': 'application/yaml' }, payload: yaml })
  t.equal(noCluster.statusCode, 400)
  t.match(noCluster.json(), { code: 'CRD_BAD_INPUT', message: /\?cluster=/ })
  const broken = await c.app.inject({ method: 'POST', url: '/v1/plans?cluster=c1', headers: { ...c.operator, 'content-type': 'application/yaml' }, payload: 'revision: 4\nfiles:\n  env: [\n' })
  t.equal(broken.statusCode, 400)
  t.match(broken.json(), { code: 'SHR_CHANGE_SPEC_SYNTAX', message: /line 4/ })
})

t.test('malformed bodies: 400 naming the field; nothing reaches the engine', async t => {
  const c = await buildTestCoordinator(t)
  const cases: Array<[string, unknown, string, RegExp?]> = [
    ['no cluster', { change: CHANGE }, 'SHR_VALIDATION', /body\.cluster/],
    ['unknown field', { cluster: 'c1', change: CHANGE, x: 1 }, 'SHR_VALIDATION', /body\.x/],
    ['bad cluster name', { cluster: '../etc', change: CHANGE }, 'SHR_VALIDATION'],
    ['change not a change', { cluster: 'c1', change: { revision: 0, files: {} } }, 'SHR_CHANGE_INVALID', /change\.revision/],
    ['change unknown field', { cluster: 'c1', change: { ...CHANGE, reboot: true } }, 'SHR_CHANGE_INVALID', /reboot/],
    ['change missing', { cluster: 'c1' }, 'SHR_VALIDATION', /body\.change/]
  ]
  for (const [what, payload, code, message] of cases) {
    const res = await c.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...c.operator, ...JSON_CT }, payload: payload as object })
    t.equal(res.statusCode, 400, `${what}: 400 (${res.body})`)
    t.equal(res.json().code, code, `${what}: ${code}`)
    if (message !== undefined) t.match(res.body, message, `${what}: names the field`)
  }
  const dup = await c.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...c.operator, ...JSON_CT }, payload: '{"cluster":"c1","cluster":"c2","change":{}}' })
  t.equal(dup.statusCode, 400)
  t.equal(dup.json().code, 'SHR_CHANGE_SPEC_SYNTAX', 'duplicate keys refused')
  const start = await c.app.inject({ method: 'POST', url: '/v1/rollouts', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE } })
  t.equal(start.statusCode, 400)
  t.match(start.json(), { code: 'SHR_VALIDATION', message: /planHash/ })
  const badStrategy = await c.app.inject({ method: 'POST', url: '/v1/rollouts', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE, planHash: 'x', strategy: { maxParallel: 0 } } })
  t.equal(badStrategy.statusCode, 400)
  t.same(c.control.calls, [], 'the engine was never asked')
})

t.test('auth: no token 401, bad token 401, viewer on a write 403, viewer reads', async t => {
  const c = await buildTestCoordinator(t)
  const none = await c.app.inject({ method: 'GET', url: '/v1/rollouts' })
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'CRD_UNAUTHENTICATED')
  for (const authorization of ['Bearer krt_bob_' + '0'.repeat(64), 'Basic Ym9iOmJvYg==', 'Bearer', `Bearer ${c.operatorToken}x`, c.operatorToken]) {
    const res = await c.app.inject({ method: 'GET', url: '/v1/rollouts', headers: { authorization } })
    t.equal(res.statusCode, 401, `${authorization.slice(0, 20)}…: 401`)
    t.notMatch(res.body, c.operatorToken.slice(-20), 'the token is not echoed')
  }
  const viewerWrite = await c.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...c.viewer, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE } })
  t.equal(viewerWrite.statusCode, 403)
  t.match(viewerWrite.json(), { code: 'CRD_FORBIDDEN', message: /alice.*viewer.*operator/ })
  const viewerSteer = await c.app.inject({ method: 'POST', url: '/v1/rollouts/r1/abort', headers: c.viewer })
  t.equal(viewerSteer.statusCode, 403)
  const noTokenBigBody = await c.app.inject({ method: 'POST', url: '/v1/plans', headers: JSON_CT, payload: '{"cluster":' })
  t.equal(noTokenBigBody.statusCode, 401, 'authentication comes before the body is read')
  await c.store.revokeToken('bob', Date.now())
  const revoked = await c.app.inject({ method: 'GET', url: '/v1/rollouts', headers: c.operator })
  t.equal(revoked.statusCode, 401, 'a revoked token is refused')
  t.same(c.control.calls, [])
})

t.test('404s and the engine\'s 409s pass through with their codes', async t => {
  const c = await buildTestCoordinator(t)
  const plan = await c.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'nope', change: CHANGE } })
  t.equal(plan.statusCode, 404)
  t.equal(plan.json().code, 'CRD_NOT_FOUND')
  for (const url of ['/v1/rollouts/zz', '/v1/rollouts/zz/events']) {
    const res = await c.app.inject({ method: 'GET', url, headers: c.viewer })
    t.equal(res.statusCode, 404, url)
  }
  const steer = await c.app.inject({ method: 'POST', url: '/v1/rollouts/zz/pause', headers: c.operator })
  t.equal(steer.statusCode, 404)
  const route = await c.app.inject({ method: 'GET', url: '/v1/nothing', headers: c.viewer })
  t.match(route.json(), { statusCode: 404, code: 'CRD_NOT_FOUND' })

  const hash = c.control.planHash('c1', (await c.control.plan('c1', { ...CHANGE, files: { config: { set: { 'log.level': 'debug' }, delete: [] } }, restart: 'on-change', verify: { deadline: '60s', stableFor: '5s' } }, 'x')).change as never)
  t.ok(hash)
  const mismatch = await c.app.inject({ method: 'POST', url: '/v1/rollouts', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE, planHash: 'deadbeef' } })
  t.equal(mismatch.statusCode, 409)
  t.equal(mismatch.json().code, 'CRD_PLAN_HASH_MISMATCH')

  const planned = (await c.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE } })).json()
  c.control.unhealthyNode = 'node2'
  const unhealthy = await c.app.inject({ method: 'POST', url: '/v1/rollouts', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE, planHash: planned.planHash } })
  t.equal(unhealthy.statusCode, 409)
  t.match(unhealthy.json(), { code: 'CRD_CLUSTER_UNHEALTHY', message: /node2/ })
  c.control.unhealthyNode = undefined
  const first = await c.app.inject({ method: 'POST', url: '/v1/rollouts', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE, planHash: planned.planHash } })
  t.equal(first.statusCode, 201)
  const second = await c.app.inject({ method: 'POST', url: '/v1/rollouts', headers: { ...c.operator, ...JSON_CT }, payload: { cluster: 'c1', change: CHANGE, planHash: planned.planHash } })
  t.equal(second.statusCode, 409)
  t.equal(second.json().code, 'CRD_ROLLOUT_CONFLICT')

  const resume = await c.app.inject({ method: 'POST', url: '/v1/rollouts/r1/resume', headers: c.operator })
  t.equal(resume.statusCode, 409, 'resume a running rollout')
  t.equal(resume.json().code, 'CRD_ROLLOUT_STATE')
  for (const [steer, state] of [['pause', 'paused'], ['resume', 'running'], ['abort', 'aborted'], ['rollback', 'reverting']] as const) {
    const res = await c.app.inject({ method: 'POST', url: `/v1/rollouts/r1/${steer}`, headers: c.operator })
    t.equal(res.statusCode, 200, `${steer}: 200`)
    t.equal(res.json().state, state)
  }
  t.match(c.control.calls.filter(x => x.method === 'pause' && x.id === 'r1'), [{ id: 'r1', actor: 'bob' }], 'the actor is the token name')
})

t.test('defaults a spec writes travel inward as written; the ones it does not write are left to each agent', async t => {
  const c = await buildTestCoordinator(t)
  const yaml = 'revision: 7\nfiles:\n  config:\n    set:\n      log.level: debug\nverify:\n  deadline: 20s\n'
  const res = await c.app.inject({ method: 'POST', url: '/v1/plans?cluster=c1', headers: { ...c.operator, 'content-type': 'application/yaml' }, payload: yaml })
  t.equal(res.statusCode, 200, res.body)
  t.same((c.control.calls.at(-1) as { change: unknown }).change, { revision: 7, files: { config: { set: { 'log.level': 'debug' }, delete: [] } }, verify: { deadline: '20s' } }, 'YAML: only verify.deadline')
  const json = await c.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...c.operator, 'content-type': 'application/json' }, payload: { cluster: 'c1', change: { revision: 8, files: {}, restart: 'always', verify: { stableFor: '2s' } } } })
  t.equal(json.statusCode, 200, json.body)
  t.same((c.control.calls.at(-1) as { change: unknown }).change, { revision: 8, files: {}, restart: 'always', verify: { stableFor: '2s' } }, 'JSON: restart and verify.stableFor')
})
