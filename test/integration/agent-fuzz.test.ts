// Property-based fuzzing of POST /v1/plan and /v1/apply over real HTTP on loopback, with the real
// apply engine and real files. Seeded, so a failure reproduces: the seed and the failing body are
// printed by fast-check. 2,000 generated bodies per run (1,000 JSON, 1,000 YAML). For each: never
// a 5xx, a 4xx always has `{ code, message, statusCode }`, a refused request leaves the managed
// files as they were, Object.prototype gains nothing; /health/live answers within 1 s throughout.
import t from 'tap'
import fc from 'fast-check'
import { request, Agent } from 'undici'
import { stringify } from 'yaml'
import { prototypeKeys, snapshotFiles, startRealAgent } from '../helpers/real-agent.js'

const SEED = 20261010
const RUNS = 1000
const agent = await startRealAgent(t)
const dispatcher = new Agent({ connections: 4 })
t.teardown(() => dispatcher.close())
const PROTO = prototypeKeys()

const segment = fc.oneof(
  fc.constantFrom('hsm', 'minio', 'minkms', 'auth', 'key', 'tls', 'log', 'version', '__proto__', 'constructor', 'prototype', 'a.b', '"q"', '', ' x'),
  fc.string({ maxLength: 8 })
)
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map(s => s.join('.'))
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom({ $secret: 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw' }, { $secret: '' }, { $secret: 1 }, { __proto__: null, polluted: 1 })
)
const revision = fc.oneof(fc.integer({ min: -5, max: 100 }), fc.constantFrom(1e300, 2 ** 53 + 1, 1.5, Number.MAX_SAFE_INTEGER), fc.string({ maxLength: 4 }))
const duration = fc.oneof(fc.constantFrom('60s', '0s', '1h', '2h', '99999999999999999999h', '5s', '1m30s', 'x'), fc.string({ maxLength: 6 }))
const spec = fc.record({
  revision,
  files: fc.record({
    config: fc.record({ set: fc.dictionary(path, value, { maxKeys: 6 }), delete: fc.array(path, { maxLength: 3 }), mode: fc.constantFrom('0600', '0644', '0000', '9') }, { requiredKeys: [] }),
    env: fc.record({ set: fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 10 }), value), { maxKeys: 4 }), unset: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }) }, { requiredKeys: [] })
  }, { requiredKeys: [] }),
  restart: fc.constantFrom('never', 'on-change', 'always', 'maybe'),
  verify: fc.record({ deadline: duration, stableFor: duration }, { requiredKeys: [] })
}, { requiredKeys: [] })

// Bodies: mostly change-shaped, some arbitrary text, some mangled.
const jsonBody = fc.oneof(
  { weight: 6, arbitrary: spec.map(s => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.jsonValue().map(v => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(spec.map(s => JSON.stringify(s)), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))) }
)
const yamlBody = fc.oneof(
  { weight: 6, arbitrary: spec.map(s => stringify(s)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom('a: &a [*a]\n', 'revision: !secret 1\n', 'revision: 1\nfiles: { config: { set: { x: !secret k1:abc } } }\n', '? [a]\n: 1\n', '%YAML 1.1\n---\nrevision: 1\n') },
  { weight: 1, arbitrary: fc.tuple(spec.map(s => stringify(s)), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))) }
)

let slowestLiveMs = 0
const polling = new AbortController()
const poller = (async () => {
  // Counted from when the probe was due: the poller shares the event loop with the server, so a
  // request that holds the loop delays the probe itself and must show as a slow answer.
  let start = performance.now()
  while (!polling.signal.aborted) {
    const res = await request(`${agent.base}/health/live`)
    await res.body.text()
    slowestLiveMs = Math.max(slowestLiveMs, performance.now() - start)
    start = performance.now() + 50
    await new Promise(resolve => setTimeout(resolve, 50))
  }
})()

async function check (route: '/v1/plan' | '/v1/apply', contentType: string, body: string): Promise<boolean> {
  const before = await snapshotFiles(agent)
  const res = await request(`${agent.base}${route}`, { method: 'POST', dispatcher, headers: { 'content-type': contentType }, body })
  const text = await res.body.text()
  if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${JSON.stringify(body).slice(0, 300)}: ${text}`)
  if (res.statusCode >= 400) {
    const e = JSON.parse(text) as { code?: unknown, message?: unknown, statusCode?: unknown }
    if (typeof e.code !== 'string' || typeof e.message !== 'string' || e.statusCode !== res.statusCode) throw new Error(`error body without the documented shape: ${text}`)
    if (await snapshotFiles(agent) !== before) throw new Error(`a refused request changed a managed file: ${JSON.stringify(body).slice(0, 300)}`)
  }
  if (prototypeKeys().join() !== PROTO.join()) throw new Error(`Object.prototype changed after ${JSON.stringify(body).slice(0, 300)}`)
  return true
}

t.test('JSON bodies', async t => {
  let n = 0
  await fc.assert(fc.asyncProperty(jsonBody, fc.boolean(), async (body, apply) => { n++; return await check(apply ? '/v1/apply' : '/v1/plan', 'application/json', body) }), { seed: SEED, numRuns: RUNS })
  t.equal(n >= RUNS, true, `${n} JSON bodies`)
})

t.test('YAML bodies', async t => {
  let n = 0
  await fc.assert(fc.asyncProperty(yamlBody, fc.boolean(), async (body, apply) => { n++; return await check(apply ? '/v1/apply' : '/v1/plan', 'application/yaml', body) }), { seed: SEED + 1, numRuns: RUNS })
  t.equal(n >= RUNS, true, `${n} YAML bodies`)
})

t.test('health answered within 1 s throughout; the agent is still serving', async t => {
  polling.abort()
  await poller
  t.ok(slowestLiveMs < 1000, `/health/live slowest answer ${slowestLiveMs.toFixed(0)} ms`)
  t.same(prototypeKeys(), PROTO)
  const res = await request(`${agent.base}/metrics`)
  t.equal(res.statusCode, 200)
  await res.body.text()
})
