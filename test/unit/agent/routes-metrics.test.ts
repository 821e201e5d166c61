import t from 'tap'
import { createAgentMetrics } from '../../../agent/metrics.js'
import { buildTestAgent } from '../../helpers/fake-agent-core.js'

t.test('GET /metrics serves the core\'s exposition as Prometheus text', async t => {
  const { app, core } = await buildTestAgent(t)
  const metrics = createAgentMetrics({ files: ['config', 'env'] })
  metrics.setAppliedRevision(12)
  core.metricsText = await metrics.render()
  const r = await app.inject('/metrics')
  t.equal(r.statusCode, 200)
  t.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  t.match(r.body, /^keyroll_agent_applied_revision 12$/m)
  t.notMatch(r.body, /^"/, 'not JSON-encoded')
})

t.test('a failing core: 500, generic', async t => {
  const { app, core } = await buildTestAgent(t)
  core.metrics = async () => { throw new Error('registry broke') }
  const r = await app.inject('/metrics')
  t.equal(r.statusCode, 500)
  t.notMatch(r.body, /registry broke/)
})
