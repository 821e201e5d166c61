// The health views' cache: an answer served as it is within its TTL; after it still served at
// once, with its age, while one refresh runs behind the view (stale while revalidate); from
// maxStaleMs on not served (the view waits for a fresh one, as for a node never asked); concurrent
// views of a node share one probe; never more than maxProbes nodes probed at once, the probes a
// view waits for before background refreshes; answers of nodes no longer configured dropped; a
// node that cannot be asked is an answer like any other; and GET /v1/clusters serves a second
// call from it. The clock is the test's own.
import t from 'tap'
import { NodeHealthCache } from '../../../coordinator/node-health-cache.js'
import type { NodeRef } from '../../../coordinator/ports/node-ref.js'
import { buildTestCoordinator, scriptedHealth } from '../../helpers/coordinator-app.js'

const node = (name: string, cluster = 'c1'): NodeRef => ({ cluster, name, agentUrl: `https://${name}:7400`, minkms: `${name}:7373` })

type Script = Parameters<typeof scriptedHealth>[0] & {}

/** Scripted sources that count the agent status calls per node (and their order), and can hold them until released. */
function counted (opts: { hold?: boolean, script?: Script } = {}): { sources: ReturnType<typeof scriptedHealth>, calls: Map<string, number>, order: string[], running: () => number, maxRunning: () => number, hold: () => void, release: () => void } {
  const base = scriptedHealth(opts.script ?? { down: { status: new Error('ECONNREFUSED') } })
  const calls = new Map<string, number>()
  const order: string[] = []
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
        order.push(n.name)
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
  return { sources, calls, order, running: () => running, maxRunning: () => maxRunning, hold: () => { holding = true }, release: () => { holding = false; const h = held; held = []; for (const r of h) r() } }
}

/** Polls (no fixed sleep) until `ok()` or a 5 s deadline; true when it held. */
async function until (ok: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 5000
  while (!ok() && Date.now() < deadline) await new Promise(resolve => setImmediate(resolve))
  return ok()
}

t.test('within the TTL an answer is served as it is; after it, served at once with its age while one refresh runs behind', async t => {
  const script: Script = {}
  const c = counted({ script })
  let now = 1_000_000
  const cache = new NodeHealthCache({ sources: c.sources, ttlMs: 5000, maxStaleMs: 60_000, now: () => now })
  const first = await cache.get(node('node1'))
  t.match(first, { node: 'node1', healthy: true, checkedAt: 1_000_000, ageMs: 0 }, 'never asked: the view waits for it')
  now += 4999
  t.match(await cache.get(node('node1')), { healthy: true, checkedAt: 1_000_000, ageMs: 4999 }, 'reused, its age shown')
  t.equal(c.calls.get('node1'), 1, 'asked once')
  t.equal(cache.refreshing, 0, 'nothing refreshed within the TTL')

  now += 1
  script.node1 = { status: new Error('ECONNREFUSED') }
  c.hold()
  const stale = await Promise.all([cache.get(node('node1')), cache.get(node('node1')), cache.getMany([node('node1')])])
  t.match(stale[0], { healthy: true, checkedAt: 1_000_000, ageMs: 5000 }, 'at the TTL: the last answer, at once, with its age')
  t.same(stale[1], stale[0])
  t.same(stale[2][0], stale[0])
  t.ok(await until(() => c.running() === 1), 'one refresh runs behind the views…')
  t.equal(cache.refreshing, 1)
  t.equal(c.calls.get('node1'), 2, '…one for three views (single flight)')
  c.release()
  t.ok(await until(() => cache.refreshing === 0), 'the refresh ends')
  now += 10
  t.match(await cache.get(node('node1')), { healthy: false, agent: { reachable: false }, checkedAt: 1_005_000, ageMs: 10 }, 'the next view has the refreshed answer')
  t.equal(c.calls.get('node1'), 2, 'and asks nothing')
  t.match(await cache.get(node('node1', 'c2')), { cluster: 'c2', ageMs: 0 }, 'a node of that name in another cluster is another node')
  t.equal(c.calls.get('node1'), 3)
})

t.test('from maxStaleMs on an answer is not served: the view waits for a fresh one', async t => {
  const c = counted()
  let now = 1_000_000
  const cache = new NodeHealthCache({ sources: c.sources, ttlMs: 5000, maxStaleMs: 60_000, now: () => now })
  await cache.get(node('node1'))
  now += 59_999
  t.match(await cache.get(node('node1')), { checkedAt: 1_000_000, ageMs: 59_999 }, 'just under the bound: served stale')
  t.ok(await until(() => cache.refreshing === 0))
  t.equal(c.calls.get('node1'), 2, 'and refreshed behind')
  now += 60_000
  t.match(await cache.get(node('node1')), { checkedAt: now, ageMs: 0 }, 'at the bound: the view waited for a fresh answer')
  t.equal(c.calls.get('node1'), 3)
  t.equal(cache.refreshing, 0, 'no refresh left behind')

  const clamped = new NodeHealthCache({ sources: c.sources, ttlMs: 5000, maxStaleMs: 1000, now: () => now })
  await clamped.get(node('node2'))
  now += 4999
  t.match(await clamped.get(node('node2')), { ageMs: 4999 }, 'a bound under the TTL is the TTL')
  t.equal(c.calls.get('node2'), 1)

  const off = new NodeHealthCache({ sources: c.sources, ttlMs: 0, maxStaleMs: 0, now: () => now })
  await off.get(node('node3'))
  t.match(await off.get(node('node3')), { ageMs: 0 })
  t.equal(c.calls.get('node3'), 2, 'TTL and bound 0: every view asks and waits')
})

t.test('a view never waits for the refresh of a node it has an answer for', async t => {
  const c = counted()
  let now = 1_000_000
  const cache = new NodeHealthCache({ sources: c.sources, now: () => now })
  await cache.getMany([node('a'), node('b')])
  now += 30_000
  c.hold()
  const view = await cache.getMany([node('a'), node('b')])
  t.same(view.map(h => h.ageMs), [30_000, 30_000], 'served while both refreshes are held')
  t.ok(await until(() => c.running() === 2))
  c.release()
  t.ok(await until(() => cache.refreshing === 0))
  t.same(c.calls.get('a'), 2)
})

t.test('probes a view waits for go before background refreshes; a queued refresh a view comes to wait for is promoted', async t => {
  const c = counted()
  let now = 1_000_000
  const cache = new NodeHealthCache({ sources: c.sources, maxProbes: 1, now: () => now })
  await cache.getMany([node('a'), node('b'), node('c')])
  c.order.length = 0
  now += 30_000
  c.hold()
  const x = cache.get(node('x'))
  t.ok(await until(() => c.running() === 1), 'a node never asked takes the only slot')
  await cache.getMany([node('a'), node('b'), node('c')])
  t.equal(cache.refreshing, 4, 'three stale nodes queued behind it, in the background')
  const y = cache.get(node('y'))
  now += 30_000
  const c2 = cache.get(node('c'))
  c.release()
  t.match(await x, { node: 'x', checkedAt: 1_030_000 }, 'x asked when its view came')
  t.match(await y, { node: 'y' })
  t.match(await c2, { node: 'c', ageMs: 0 }, 'c, past the bound, waited for its refresh')
  t.ok(await until(() => cache.refreshing === 0))
  t.same(c.order, ['x', 'y', 'c', 'a', 'b'], 'waited-for probes first, each queue in order; c asked once')
  t.equal(cache.probing, 0, 'every slot freed')
})

t.test('answers of nodes no longer configured are dropped; others are answered, not kept', async t => {
  const c = counted()
  let configured = [node('a'), node('b')]
  const cache = new NodeHealthCache({ sources: c.sources, configured: () => configured })
  await cache.getMany([node('a'), node('b')])
  t.equal(cache.size, 2)
  t.match(await cache.get(node('other')), { node: 'other', healthy: true }, 'a node not configured is answered…')
  await cache.get(node('other'))
  t.equal(cache.size, 2, '…but not kept')
  t.equal(c.calls.get('other'), 2)
  configured = [node('b')]
  t.match(await cache.get(node('b')), { node: 'b' })
  t.equal(cache.size, 1, 'a new configuration drops a')
  await cache.get(node('a'))
  t.equal(c.calls.get('a'), 2, 'a is asked again, not kept')
  t.equal(cache.size, 1)
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
  t.ok(await until(() => c.running() === 2))
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
  t.ok(await until(() => c.running() === 3))
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

t.test('an answer asked before keyroll changed the node is not served: the view waits for a fresh one, once', async t => {
  const c = counted()
  let now = 1_000_000
  const cache = new NodeHealthCache({ sources: c.sources, ttlMs: 5000, maxStaleMs: 60_000, now: () => now })
  await cache.get(node('node1'))
  now += 1000
  t.match(await cache.get(node('node1'), 999_000), { checkedAt: 1_000_000 }, 'changed before the answer: served')
  t.equal(c.calls.get('node1'), 1)
  t.match(await cache.get(node('node1'), 1_000_500), { checkedAt: 1_001_000, ageMs: 0 }, 'changed after the answer (a rollout step ended): asked afresh, waited for')
  t.equal(c.calls.get('node1'), 2)
  now += 1000
  t.match(await cache.get(node('node1'), 1_000_500), { checkedAt: 1_001_000 }, 'the fresh answer postdates the change: served')
  t.equal(c.calls.get('node1'), 2)
})

t.test('GET /v1/nodes right after a rollout step ended on a node shows a fresh answer for it, the kept one for the others', async t => {
  const c = await buildTestCoordinator(t)
  const first = (await c.app.inject({ method: 'GET', url: '/v1/nodes?cluster=c1', headers: c.viewer })).json() as Array<{ node: string, checkedAt: number }>
  const change = { revision: 2, files: { config: { set: { 'log.level': 'debug' } } } }
  const r = await c.control.start({ cluster: 'c1', change, planHash: c.control.planHash('c1', change), actor: 'bob' })
  const stored = await c.control.get(r.id)
  const checked = first.find((n) => n.node === 'node1')?.checkedAt ?? 0
  const step = stored?.nodes.find((s) => s.node === 'node1')
  if (step === undefined) throw new Error('no step of node1')
  Object.assign(step, { state: 'done', startedAt: checked, finishedAt: checked + 1 })
  t.ok(await until(() => Date.now() > checked + 1), 'the clock moved past the step\'s end')
  const second = (await c.app.inject({ method: 'GET', url: '/v1/nodes?cluster=c1', headers: c.viewer })).json() as Array<{ node: string, checkedAt: number }>
  t.ok((second.find((n) => n.node === 'node1')?.checkedAt ?? 0) > checked + 1, 'node1 asked again after its step ended')
  t.equal(second.find((n) => n.node === 'node2')?.checkedAt, first.find((n) => n.node === 'node2')?.checkedAt, 'node2, untouched, served from the cache')
})
