// The health views' cache: an answer reused within its TTL and shown with its age, asked again
// after it; concurrent views of a node share one probe; never more than maxProbes nodes probed at
// once; a node that cannot be asked is an answer like any other; and GET /v1/clusters serves a
// second call from it.
import t from 'tap'
import { NodeHealthCache } from '../../../coordinator/node-health-cache.js'
import type { NodeRef } from '../../../coordinator/ports/node-ref.js'
import { buildTestCoordinator, scriptedHealth } from '../../helpers/coordinator-app.js'

const node = (name: string, cluster = 'c1'): NodeRef => ({ cluster, name, agentUrl: `https://${name}:7400`, minkms: `${name}:7373` })

/** Scripted sources that count the agent status calls per node, and can hold them until released. */
function counted (opts: { hold?: boolean } = {}): { sources: ReturnType<typeof scriptedHealth>, calls: Map<string, number>, running: () => number, maxRunning: () => number, release: () => void } {
  const base = scriptedHealth({ down: { status: new Error('ECONNREFUSED') } })
  const calls = new Map<string, number>()
  let running = 0
  let maxRunning = 0
  let held: Array<() => void> = []
  let holding = opts.hold === true
  const sources = {
    ...base,
    agents: {
      ...base.agents,
      status: async (n: NodeRef, o?: { signal?: AbortSignal }) => {
        calls.set(n.name, (calls.get(n.name) ?? 0) + 1)
        running++
        maxRunning = Math.max(maxRunning, running)
        try {
          if (holding) await new Promise<void>(resolve => { held.push(resolve) })
          return await base.agents.status(n, o)
        } finally {
          running--
        }
      }
    }
  }
  return { sources, calls, running: () => running, maxRunning: () => maxRunning, release: () => { holding = false; const h = held; held = []; for (const r of h) r() } }
}

t.test('an answer is reused within the TTL, with its age, and asked again after it', async t => {
  const c = counted()
  let now = 1_000_000
  const cache = new NodeHealthCache({ sources: c.sources, ttlMs: 5000, now: () => now })
  const first = await cache.get(node('node1'))
  t.match(first, { node: 'node1', healthy: true, checkedAt: 1_000_000, ageMs: 0 })
  now += 4999
  t.match(await cache.get(node('node1')), { healthy: true, checkedAt: 1_000_000, ageMs: 4999 }, 'reused, its age shown')
  t.equal(c.calls.get('node1'), 1, 'asked once')
  now += 1
  t.match(await cache.get(node('node1')), { checkedAt: 1_005_000, ageMs: 0 }, 'at the TTL: asked again')
  t.equal(c.calls.get('node1'), 2)
  t.match(await cache.get(node('node1', 'c2')), { cluster: 'c2', ageMs: 0 }, 'a node of that name in another cluster is another node')
  t.equal(c.calls.get('node1'), 3)
  const off = new NodeHealthCache({ sources: c.sources, ttlMs: 0, now: () => now })
  await off.get(node('node2'))
  await off.get(node('node2'))
  t.equal(c.calls.get('node2'), 2, 'TTL 0: every view asks')
})

t.test('a node that cannot be asked is an answer, kept like the others', async t => {
  const c = counted()
  const cache = new NodeHealthCache({ sources: c.sources })
  const [down, again] = [await cache.get(node('down')), await cache.get(node('down'))]
  t.match(down, { agent: { reachable: false, error: 'ECONNREFUSED' }, healthy: false })
  t.same(again, { ...down, ageMs: again.ageMs })
  t.equal(c.calls.get('down'), 1)
})

t.test('concurrent views share one probe per node (single flight)', async t => {
  const c = counted({ hold: true })
  const cache = new NodeHealthCache({ sources: c.sources })
  const views = Array.from({ length: 20 }, async () => await cache.getMany([node('a'), node('b')]))
  const deadline = Date.now() + 5000
  while (c.running() < 2 && Date.now() < deadline) await new Promise(resolve => setImmediate(resolve))
  c.release()
  const answers = await Promise.all(views)
  t.same([c.calls.get('a'), c.calls.get('b')], [1, 1], 'each node asked once for 20 views')
  t.ok(answers.every(v => v[0]?.node === 'a' && v[1]?.node === 'b' && v.every(h => h.healthy)), 'every view has both, in order')
})

t.test('at most maxProbes nodes are probed at once; every node is answered', async t => {
  const c = counted({ hold: true })
  const cache = new NodeHealthCache({ sources: c.sources, maxProbes: 3 })
  const nodes = Array.from({ length: 10 }, (_, i) => node(`n${i}`))
  const view = cache.getMany(nodes)
  const deadline = Date.now() + 5000
  while (c.running() < 3 && Date.now() < deadline) await new Promise(resolve => setImmediate(resolve))
  // Give a probe that should not start every chance to.
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
  t.equal(c.running(), 3, 'three held, the rest queued')
  t.equal(cache.probing, 3)
  c.release()
  const answers = await view
  t.same(answers.map(h => h.node), nodes.map(n => n.name))
  t.equal(c.maxRunning(), 3, 'never more than three at once')
  t.equal(cache.probing, 0, 'every slot freed')
})

t.test('GET /v1/clusters and /v1/nodes answer from the cache, with each node\'s age', async t => {
  const c = await buildTestCoordinator(t)
  const first = await c.app.inject({ method: 'GET', url: '/v1/clusters', headers: c.viewer })
  t.equal(first.statusCode, 200, first.body)
  const n1 = first.json()[0].nodes[0]
  t.match(n1, { node: 'node1', checkedAt: Number, ageMs: Number })
  const nodes = await c.app.inject({ method: 'GET', url: '/v1/nodes?cluster=c1', headers: c.viewer })
  t.equal(nodes.json()[0].checkedAt, n1.checkedAt, 'the same answer, reused')
  t.ok(nodes.json()[0].ageMs >= 0)
})
