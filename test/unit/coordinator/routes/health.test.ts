// Health, readiness, metrics and the OpenAPI document: public, and true to the routes.
import t from 'tap'
import { buildTestCoordinator } from '../../../helpers/coordinator-app.js'

t.test('live and ready need no token; ready is 503 when a check fails', async t => {
  let ok = true
  const c = await buildTestCoordinator(t, { ready: async () => ({ ok, checks: { store: { ok, message: ok ? 'open' : 'closed' } } }) })
  t.equal((await c.app.inject('/health/live')).statusCode, 200)
  const ready = await c.app.inject('/health/ready')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { ok: true, checks: { store: { ok: true, message: 'open' } } })
  ok = false
  t.equal((await c.app.inject('/health/ready')).statusCode, 503)
  const broken = await buildTestCoordinator(t, { ready: async () => { throw new Error('boom') } })
  const r = await broken.app.inject('/health/ready')
  t.equal(r.statusCode, 503)
  t.match(r.json(), { ok: false, checks: { coordinator: { ok: false } } })
})

t.test('metrics: rollouts and steps by state, request latency by route pattern', async t => {
  const c = await buildTestCoordinator(t)
  const change = { revision: 1, files: {}, restart: 'on-change' as const, verify: { deadline: '60s', stableFor: '5s' } }
  await c.control.start({ cluster: 'c1', change, planHash: c.control.planHash('c1', change), actor: 'bob' })
  await c.app.inject({ method: 'GET', url: '/v1/rollouts/r1', headers: c.viewer })
  await c.app.inject({ method: 'GET', url: '/v1/rollouts/zz', headers: c.viewer })
  const res = await c.app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain/)
  t.match(res.body, /keyroll_coordinator_rollouts\{state="running"\} 1/)
  t.match(res.body, /keyroll_coordinator_rollouts\{state="succeeded"\} 0/)
  t.match(res.body, /keyroll_coordinator_steps\{state="pending"\} 3/)
  t.match(res.body, /keyroll_coordinator_http_request_duration_seconds_count\{method="GET",route="\/v1\/rollouts\/:id",status="200"\} 1/)
  t.match(res.body, /keyroll_coordinator_http_request_duration_seconds_count\{method="GET",route="\/v1\/rollouts\/:id",status="404"\} 1/)
  t.match(res.body, /keyroll_coordinator_http_errors_total\{class="4xx"\} 1/)
  t.match(res.body, /keyroll_coordinator_event_streams 0/)
})

t.test('/openapi.json: every route, its parameters, body, responses and security', async t => {
  const c = await buildTestCoordinator(t)
  const res = await c.app.inject('/openapi.json')
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.equal(doc.openapi, '3.1.0')
  const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) => Object.keys(m).map(x => `${x.toUpperCase()} ${p}`)).sort()
  for (const op of ['GET /health/live', 'GET /health/ready', 'GET /metrics', 'GET /openapi.json', 'GET /v1/clusters', 'GET /v1/nodes', 'POST /v1/plans', 'POST /v1/rollouts', 'GET /v1/rollouts', 'GET /v1/rollouts/{id}',
    'POST /v1/rollouts/{id}/pause', 'POST /v1/rollouts/{id}/resume', 'POST /v1/rollouts/{id}/abort', 'POST /v1/rollouts/{id}/promote', 'POST /v1/rollouts/{id}/rollback',
    'GET /v1/rollouts/{id}/events', 'GET /v1/audit', 'POST /v1/convergence/slots', 'POST /v1/convergence/slots/{id}/release']) {
    t.ok(ops.includes(op), op)
  }
  const events = doc.paths['/v1/rollouts/{id}/events'].get
  t.match(events.parameters, [{ name: 'id', in: 'path', required: true }, { name: 'from', in: 'query' }, { name: 'follow', in: 'query' }, { name: 'last-event-id', in: 'header' }])
  t.ok(events.responses['200'].content['text/event-stream'])
  t.same(events.security, [{ bearer: [] }])
  const plans = doc.paths['/v1/plans'].post
  t.match(plans.requestBody.content['application/json'].schema, { type: 'object', required: ['cluster', 'change'] })
  t.ok(plans.requestBody.content['application/yaml'], 'YAML bodies too')
  t.match(plans.responses['200'].content['application/json'].schema.properties, { planHash: { type: 'string' } })
  t.ok(plans.responses['4XX'])
  t.same(doc.paths['/v1/convergence/slots'].post.security, [], 'slots: client certificate, no token')
  t.same(doc.paths['/health/live'].get.security, [])
  t.match(doc.paths['/v1/convergence/slots/{id}/release'].post.responses['204'], { description: 'no content' })
  t.notOk(JSON.stringify(doc).includes('"[object'), 'plain JSON')
})
