// Benchmark (not a test): the coordinator's API at scale, no lab needed.
//
//   npm run bench:coordinator -- [--agents 1000] [--streams 200] [--seconds 30]
//
// The real daemon (dist/coordinator/main.js serve: SQLite store in a temp dir, HTTPS with a site
// PKI, mutual TLS to the agents) in its own process, over simulated agents on loopback
// (sim-agents.ts: real HTTPS, one port per node, in this process). Three phases, each the same
// open-loop request mix (api-mix.ts) for --seconds, then GET /v1/clusters (which asks every
// node, so it is timed apart, one call at a time), with one rollout in progress (held at its
// first node's restart, its journal streaming a line every 100 ms):
//   baseline: 3 agents, no event stream (its own coordinator process, same run)
//   scale, no streams: --agents agents
//   scale: --agents agents and --streams open event streams on the rollout (NDJSON and SSE),
//     opened from index 0 like `keyroll rollout watch`; the phase starts once every stream has
//     caught up with the stored events (that catch-up is timed and printed on its own)
// Printed: per route p50/p99/max, the mix's p99 (target < 100 ms), the coordinator's VmRSS
// (target < 300 MB), and each against the baseline. Nothing is asserted. docs/benchmarks.md.
import { mkdtemp, rm } from 'node:fs/promises'
import { readFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { request, type Agent } from 'undici'
import { initPki } from '../../coordinator/pki/site-pki.js'
import { agentPaths, caPaths, coordinatorPaths } from '../../coordinator/pki/pki-layout.js'
import { errText } from '../../shared/error-text.js'
import type { Rollout } from '../../shared/schemas/rollout.js'
import { dispatcherFor, mixSummary, openStreams, runMix, type MixResult, type MixRoute, type Target } from './api-mix.js'
import { startCoordinator, type CoordinatorProcess, type SimCluster } from './coordinator-process.js'
import { startSimAgentsProcess, type SimProcess } from './sim-agents-process.js'
import { summarize, type Summary } from './stats.js'

const say = (s: string): void => { process.stderr.write(`# ${s}\n`) }
const ms = (v: number | undefined): string => v === undefined ? '-' : v < 10 ? v.toFixed(1) : String(Math.round(v))
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ')
const FLEET = 'GET /v1/clusters (every node; apart, one at a time)'
const FLEET_CALLS = 3

interface Options { agents: number, streams: number, seconds: number }
interface Phase { name: string, mix: MixResult, rssMaxKb: number, nodesInView: number }

function options (): Options {
  const { values } = parseArgs({ options: { agents: { type: 'string', default: '1000' }, streams: { type: 'string', default: '200' }, seconds: { type: 'string', default: '30' } } })
  const o = { agents: Number(values.agents), streams: Number(values.streams), seconds: Number(values.seconds) }
  if (!Number.isInteger(o.agents) || o.agents < 4 || o.agents > 64 * 1000) throw new Error(`--agents ${values.agents}: expected 4 to 64000`)
  if (!Number.isInteger(o.streams) || o.streams < 0 || o.streams > 2000) throw new Error(`--streams ${values.streams}: expected 0 to 2000`)
  if (!(o.seconds >= 5)) throw new Error(`--seconds ${values.seconds}: expected at least 5`)
  return o
}

/** `small` (3 nodes, where plans are made) and clusters of at most 50 nodes up to `agents` nodes. */
function fleet (agents: number): SimCluster[] {
  const out: SimCluster[] = [{ name: 'small', nodes: ['small-1', 'small-2', 'small-3'] }]
  for (let left = agents - 3, c = 1; left > 0; c++) {
    const n = Math.min(50, left)
    const name = `c${String(c).padStart(3, '0')}`
    out.push({ name, nodes: Array.from({ length: n }, (_, i) => `${name}-${i + 1}`) })
    left -= n
  }
  return out
}

const change = (revision: number): Record<string, unknown> => ({ revision, files: { config: { set: { 'cache.expiry.any': '6m' } } } })

async function call (d: Agent, t: Target, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number, json: unknown }> {
  const res = await request(`${t.url}${path}`, { method, dispatcher: d, headers: { authorization: `Bearer ${t.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await res.body.text()
  return { status: res.statusCode, json: JSON.parse(text) as unknown }
}

/** Starts a rollout on `cluster` and waits until its first node is applying (held there by the simulated agent). */
async function rolloutInProgress (d: Agent, t: Target, cluster: string): Promise<string> {
  // Setup, not measured: on a loaded machine a start over 50 nodes may meet a connect timeout.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRollout(d, t, cluster)
    } catch (err) {
      if (attempt === 3) throw err
      say(`starting the rollout failed (${errText(err)}); again`)
    }
  }
}

async function startRollout (d: Agent, t: Target, cluster: string): Promise<string> {
  const plan = await call(d, t, 'POST', '/v1/plans', { cluster, change: change(1) })
  if (plan.status !== 200) throw new Error(`plan on ${cluster}: HTTP ${plan.status} ${JSON.stringify(plan.json)}`)
  const started = await call(d, t, 'POST', '/v1/rollouts', { cluster, change: change(1), planHash: (plan.json as { planHash: string }).planHash })
  if (started.status !== 201) throw new Error(`rollout on ${cluster}: HTTP ${started.status} ${JSON.stringify(started.json)}`)
  const id = (started.json as Rollout).id
  const deadline = Date.now() + 60_000
  for (;;) {
    const r = (await call(d, t, 'GET', `/v1/rollouts/${id}`)).json as Rollout
    if (r.nodes[0]?.state === 'applying') return id
    if (Date.now() > deadline) throw new Error(`rollout ${id} did not reach applying within 60 s (${r.state}: ${r.message ?? ''})`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

function routes (id: string, nodesOf: string): MixRoute[] {
  return [
    { name: 'GET /health/ready', perSecond: 5, method: 'GET', path: '/health/ready' },
    { name: 'GET /v1/rollouts/:id', perSecond: 5, method: 'GET', path: `/v1/rollouts/${id}` },
    { name: 'GET /v1/nodes?cluster=', perSecond: 2, method: 'GET', path: `/v1/nodes?cluster=${nodesOf}` },
    { name: 'POST /v1/plans (3 nodes)', perSecond: 1, method: 'POST', path: '/v1/plans', body: { cluster: 'small', change: change(2) } }
  ]
}

async function phase (name: string, coord: CoordinatorProcess, d: Agent, t: Target, mix: MixRoute[], seconds: number, nodesInView: number, fleet: boolean): Promise<Phase> {
  say(`${name}: ${seconds} s of requests`)
  let rssMaxKb = await coord.rssKb()
  const sampler = setInterval(() => { coord.rssKb().then((kb) => { rssMaxKb = Math.max(rssMaxKb, kb) }, () => {}) }, 500)
  try {
    const result = await runMix(d, t, mix, seconds)
    // The fleet-wide view asks every node's agent (status, readiness) and minkms: 3 calls per
    // node, by design. Timed apart from the mix, one call at a time, after it, and only in the
    // last phase of each coordinator (what it leaves behind would weigh on the next phase).
    const fleetMs: number[] = []
    for (let i = 0; i < (fleet ? FLEET_CALLS : 0); i++) {
      const t0 = performance.now()
      const r = await call(d, t, 'GET', '/v1/clusters').catch((err: Error) => ({ status: 0, json: err.message }))
      fleetMs.push(performance.now() - t0)
      if (r.status !== 200) result.errors.push(`${FLEET}: HTTP ${r.status}`)
    }
    result.byRoute.set(FLEET, fleetMs)
    const p99 = summarize([...result.byRoute].filter(([k]) => k !== FLEET).flatMap(([, v]) => v))?.p99
    say(`${name}: mix p99 ${ms(p99)} ms, ${FLEET} ${fleetMs.map(ms).join(', ')} ms, VmRSS max ${(rssMaxKb / 1024).toFixed(1)} MB, ${result.errors.length} errors`)
    return { name, mix: result, rssMaxKb, nodesInView }
  } finally {
    clearInterval(sampler)
  }
}

function report (o: Options, phases: Phase[], streams: { events: number, lag: Summary | undefined, errors: string[], catchUpMs: number, catchUpEvents: number, rssCatchUpKb: number }, loadAtStart: string): string[] {
  const sums = phases.map((p) => mixSummary(p.mix, [FLEET]))
  const keys = [...(sums[0]?.keys() ?? [])]
  const base = sums[0]
  const lines = [
    `## keyroll-coordinator at scale (load average at start ${loadAtStart}, at the end ${load()})`,
    '',
    `phases: ${phases.map((p, i) => `${i + 1}. ${p.name}`).join('; ')}; ${o.seconds} s each, the same open-loop mix; latency from when each request was due, in ms`,
    '',
    `| route (n per phase) | ${phases.map((p, i) => `${i + 1}. p50 / p99 / max`).join(' | ')} | p99 ${phases.length}. vs 1. |`,
    `|---|${phases.map(() => '---|').join('')}---|`
  ]
  for (const k of keys) {
    const cells = sums.map((s) => { const v = s.get(k); return v === undefined ? '-' : `${ms(v.p50)} / ${ms(v.p99)} / ${ms(v.max)}` })
    const first = base?.get(k)?.p99
    const last = sums.at(-1)?.get(k)?.p99
    lines.push(`| ${k} (${sums[0]?.get(k)?.n ?? 0}) | ${cells.join(' | ')} | ${first === undefined || last === undefined ? '-' : `${(last / first).toFixed(1)}x`} |`)
  }
  const rss = phases.map((p) => `${p.name}: ${(p.rssMaxKb / 1024).toFixed(1)} MB`)
  const last = sums.at(-1)
  const p99Mix = last?.get(`all but ${FLEET}`)?.p99
  const p99All = last?.get('all routes')?.p99
  const rssLast = (phases.at(-1)?.rssMaxKb ?? NaN) / 1024
  lines.push('',
    `coordinator VmRSS (max while the phase ran): ${rss.join('; ')}; ${phases.length}. vs 1.: ${((phases.at(-1)?.rssMaxKb ?? NaN) / (phases[0]?.rssMaxKb ?? NaN)).toFixed(2)}x`,
    `event streams: ${o.streams} opened from index 0 (every other one SSE): caught up with the stored events in ${streams.catchUpMs} ms (${streams.catchUpEvents} events sent, VmRSS max ${(streams.rssCatchUpKb / 1024).toFixed(1)} MB meanwhile); then during phase ${phases.length}: ${streams.events} events delivered, delivery lag p50 ${ms(streams.lag?.p50)} / p99 ${ms(streams.lag?.p99)} / max ${ms(streams.lag?.max)} ms; stream errors ${streams.errors.length}`,
    `errors (non-2xx or failed requests): ${phases.map((p) => `${p.name} ${p.mix.errors.length}`).join('; ')}${phases.some((p) => p.mix.errors.length > 0) ? ` (first: ${phases.flatMap((p) => p.mix.errors)[0] ?? ''})` : ''}`,
    '',
    `target API p99 < 100 ms at ${o.agents} agents and ${o.streams} streams: ${ms(p99Mix)} ms without ${FLEET} (${p99Mix !== undefined && p99Mix < 100 ? 'met' : 'NOT met'}), ${ms(p99All)} ms with it (${p99All !== undefined && p99All < 100 ? 'met' : 'NOT met'})`,
    `target RSS < 300 MB: ${rssLast.toFixed(1)} MB (${rssLast < 300 ? 'met' : 'NOT met'})`)
  for (const s of streams.errors.slice(0, 3)) lines.push(`  stream error: ${s}`)
  return lines
}

async function bench (o: Options, dir: string): Promise<string[]> {
  const loadAtStart = load()
  const clusters = fleet(o.agents)
  const all = clusters.flatMap((c) => c.nodes)
  const pkiDir = join(dir, 'pki')
  await initPki({ dir: pkiDir, coordinatorName: 'bench-coordinator', coordinatorNames: { ips: ['127.0.0.1'], dns: [] }, agents: [{ node: 'sim-agent', ips: ['127.0.0.1'], dns: [] }] })
  const ca = await readFile(caPaths(pkiDir).crt)
  const agentCert = agentPaths(pkiDir, 'sim-agent').server
  const coordCerts = coordinatorPaths(pkiDir)
  const pki = { ca: caPaths(pkiDir).crt, server: coordCerts.server, client: coordCerts.client }
  say(`simulated agents: ${all.length} on loopback, in a process of their own`)
  const sim: SimProcess = await startSimAgentsProcess({ nodes: all, cert: agentCert.crt, key: agentCert.key, clientCa: caPaths(pkiDir).crt }, join(dir, 'sim.json'))
  const cleanups: Array<() => Promise<void>> = [async () => { await sim.stop() }]
  try {
    const phases: Phase[] = []
    const ready = async (url: string): Promise<boolean> => {
      const d = dispatcherFor({ url, token: '', ca })
      try { return (await request(`${url}/health/ready`, { dispatcher: d })).statusCode === 200 } finally { await d.close() }
    }

    say('baseline: a coordinator over 3 agents')
    const small = clusters.slice(0, 1)
    const c1 = await startCoordinator(join(dir, 'baseline'), pki, small, sim.ports, ready)
    cleanups.unshift(async () => { await c1.stop() })
    const t1: Target = { url: c1.url, token: c1.token, ca }
    const d1 = dispatcherFor(t1)
    const id1 = await rolloutInProgress(d1, t1, 'small')
    phases.push(await phase('3 agents, no stream', c1, d1, t1, routes(id1, 'small'), o.seconds, 3, true))
    await d1.close()
    await c1.stop()

    say(`scale: a coordinator over ${all.length} agents in ${clusters.length} clusters`)
    const c2 = await startCoordinator(join(dir, 'scale'), pki, clusters, sim.ports, ready)
    cleanups.unshift(async () => { await c2.stop() })
    const t2: Target = { url: c2.url, token: c2.token, ca }
    const d2 = dispatcherFor(t2)
    cleanups.unshift(async () => { await d2.close() })
    const big = clusters[1]?.name ?? 'small'
    const id2 = await rolloutInProgress(d2, t2, big)
    const mix = routes(id2, big)
    const nodesInView = clusters[1]?.nodes.length ?? 3
    phases.push(await phase(`${all.length} agents, no stream`, c2, d2, t2, mix, o.seconds, nodesInView, false))
    say(`opening ${o.streams} event streams`)
    const ds = dispatcherFor(t2)
    cleanups.unshift(async () => { await ds.close().catch(() => {}) })
    let rssCatchUpKb = await c2.rssKb()
    const catchUpSampler = setInterval(() => { c2.rssKb().then((kb) => { rssCatchUpKb = Math.max(rssCatchUpKb, kb) }, () => {}) }, 500)
    const streams = await openStreams(ds, t2, id2, o.streams)
    cleanups.unshift(async () => { streams.close() })
    const eventsAtOpen = streams.events()
    const catchUpMs = await streams.caughtUp(300_000).finally(() => { clearInterval(catchUpSampler) })
    const replayed = streams.events() - eventsAtOpen
    say(`the ${o.streams} streams caught up in ${catchUpMs} ms (${replayed} events sent meanwhile), VmRSS max ${(rssCatchUpKb / 1024).toFixed(1)} MB`)
    streams.lags.length = 0
    const before = streams.events()
    phases.push(await phase(`${all.length} agents, ${o.streams} streams`, c2, d2, t2, mix, o.seconds, nodesInView, true))
    const events = streams.events() - before
    return report(o, phases, { events, lag: summarize(streams.lags), errors: streams.errors, catchUpMs, catchUpEvents: eventsAtOpen + replayed, rssCatchUpKb }, loadAtStart)
  } finally {
    for (const c of cleanups) await c().catch((e: unknown) => { say(`cleanup: ${errText(e)}`) })
  }
}

async function main (): Promise<number> {
  let o: Options
  try {
    o = options()
  } catch (e) {
    process.stderr.write(`${errText(e)}\nusage: npm run bench:coordinator -- [--agents 1000] [--streams 200] [--seconds 30]\n`)
    return 2
  }
  const dir = await mkdtemp(join(tmpdir(), 'keyroll-coordinator-bench-'))
  try {
    process.stdout.write((await bench(o, dir)).join('\n') + '\n')
    return 0
  } catch (e) {
    say(`benchmark failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
    return 1
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

process.exitCode = await main()
