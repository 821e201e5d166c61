// Benchmark (not a test): what a rollout costs on a real 3-node cluster, driven by the real
// coordinator (its systemd unit on the lab's `coord` node) through the real agents.
//
//   npm run bench:coordinator:lab -- [--before 20s] [--per-second 25]     (root; boots a lab)
//
// 1. A client load (encrypt→decrypt round trips through the shared minkms client holding every
//    node's endpoint, as test/lab/coordinator-rollout.test.ts runs it) for `--before` with no
//    rollout: the baseline latency.
// 2. The same load while a config change rolls over the 3 nodes, three times: with
//    `minHealthyTime: 0s` (the coordinator's own overhead), the same without staging the next
//    node (`stageNext: false`: every node applied whole, as before staging existed), and with the
//    default strategy.
// Printed: rollout overhead = wall time / Σ each node's restart → verdict (rollout-timing.ts says
// what is in each), where the time went per node, and the load's p50/p99/max and failures before
// and during each rollout. Nothing is asserted. See docs/benchmarks.md.
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { parseDuration } from '../../shared/change/duration.js'
import { errText } from '../../shared/error-text.js'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import type { Rollout, RolloutEvent } from '../../shared/schemas/rollout.js'
import { percentile, startClientLoad, type ClientLoadReport } from '../lab/client-load.js'
import { keyrollLab, type KeyrollLab } from '../lab/keyroll-lab.js'
import { startLab } from '../lab/start-lab.js'
import { rolloutTiming, type RolloutTiming } from './rollout-timing.js'
import { Teardowns, tearDownOnSignals } from './teardowns.js'

const say = (s: string): void => { process.stderr.write(`# ${s}\n`) }
const ms = (v: number | undefined): string => v === undefined ? '-' : String(Math.round(v))
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ')

interface Options { beforeMs: number, perSecond: number }

function options (): Options {
  const { values } = parseArgs({ options: { before: { type: 'string', default: '20s' }, 'per-second': { type: 'string', default: '25' } } })
  const beforeMs = parseDuration(values.before)
  if (beforeMs === undefined || beforeMs < 1000) throw new Error(`--before ${values.before}: expected a duration of at least 1s`)
  const perSecond = Number(values['per-second'])
  if (!(perSecond > 0 && perSecond <= 200)) throw new Error(`--per-second ${values['per-second']}: expected 1 to 200`)
  return { beforeMs, perSecond }
}

function loadLine (what: string, r: ClientLoadReport): string {
  const s = (r.stoppedAt - r.startedAt) / 1000
  return `| ${what} | ${r.ok + r.failed} (${((r.ok + r.failed) / s).toFixed(1)}/s) | ${ms(percentile(r.latencies, 50))} | ${ms(percentile(r.latencies, 99))} | ${ms(Math.max(...r.latencies))} | ${r.failed} |`
}

function timingLines (what: string, r: Rollout, t: RolloutTiming): string[] {
  const lines = [
    `### ${what}: rollout ${r.id} ${r.state} (minHealthyTime ${r.strategy.minHealthyTimeMs} ms)`,
    `wall ${ms(t.wall)} ms / Σ restart→verdict ${ms(t.restartToVerdictSum)} ms = **${t.ratio.toFixed(2)}** (target ≤ 1.10: ${t.ratio <= 1.1 ? 'met' : 'NOT met'}); last step done → ${r.state} ${ms(t.tail)} ms`,
    overheadLine(t),
    '',
    '| node | prepare (previous node done / created → applying) | prepare parts | via (stage ms) | applying → restart | restart → verdict | verdict → healthy (gate) | gate checks | hold (healthy → done) |',
    '|---|---|---|---|---|---|---|---|---|'
  ]
  for (const s of t.steps) {
    const checks = [`verdict → result in ${ms(s.verdictToGating)}`, ...Object.entries(s.gateChecks).map(([k, v]) => `${k} ${ms(v)}`)].join(', ')
    const parts = Object.entries(s.prepareParts).map(([k, v]) => `${k} ${ms(v)}`).join(', ')
    const via = `${s.via ?? '-'}${s.stageMs === undefined ? '' : ` (${s.staged === false ? 'failed, ' : ''}${ms(s.stageMs)})`}`
    lines.push(`| ${s.node} | ${ms(s.prepare)} | ${parts === '' ? '-' : parts} | ${via} | ${ms(s.applyToRestart)} | ${ms(s.restartToVerdict)} | ${ms(s.gate)} | ${checks} | ${ms(s.hold)} |`)
  }
  return lines
}

/** The overhead (wall − Σ restart→verdict) split into the phases' sums. */
function overheadLine (t: RolloutTiming): string {
  const sum = (k: 'prepare' | 'applyToRestart' | 'gate' | 'hold'): number => t.steps.reduce((a, s) => a + (s[k] ?? 0), 0)
  const parts = { prepare: sum('prepare'), 'applying → restart': sum('applyToRestart'), gate: sum('gate'), hold: sum('hold') }
  const rest = t.wall - t.restartToVerdictSum - Object.values(parts).reduce((a, b) => a + b, 0)
  return `overhead ${ms(t.wall - t.restartToVerdictSum)} ms = ${Object.entries(parts).map(([k, v]) => `${k} ${ms(v)}`).join(' + ')} + rest ${ms(rest)}`
}

const isTerminalEvent = (e: RolloutEvent): boolean => e.type === 'rollout' && ['succeeded', 'failed', 'aborted', 'reverted'].includes(String((e.data as { state?: unknown } | undefined)?.state))

// `stableFor`: the agents' stability window for the change (the bench's strict 1 s by default;
// 5 s is the agent's shipped default, which the lab's agents do not use).
async function roll (kr: KeyrollLab, loadOpts: Parameters<typeof startClientLoad>[0], revision: number, strategy: Record<string, unknown> | undefined, stableFor = '1s'): Promise<{ rollout: Rollout, timing: RolloutTiming, load: ClientLoadReport }> {
  const change = { revision, files: { config: { set: { 'cache.expiry.any': `${revision + 4}m` } } }, verify: { deadline: '30s', stableFor } }
  const running = startClientLoad(loadOpts)
  const started = await kr.roll(change, strategy)
  const events = await kr.follow(started.id)
  // A stream that ended before the rollout's terminal event (seen under heavy load) is followed
  // again from where it stopped; the stream is resumable from an index.
  for (let again = 0; again < 5 && !events.some(isTerminalEvent); again++) {
    const last = events.at(-1)
    say(`the event stream of ${started.id} ended after ${events.length} events without the terminal one (last: ${last?.type ?? '-'} ${last?.message ?? ''}); following again from ${events.length}`)
    events.push(...await kr.follow(started.id, undefined, events.length))
  }
  const loadReport = await running.stop()
  const done = (await kr.call('GET', `/v1/rollouts/${started.id}`)).json as Rollout
  return { rollout: done, timing: rolloutTiming(done, events), load: loadReport }
}

async function bench (host: Teardowns, o: Options): Promise<string[]> {
  const loadAtStart = load()
  const lab = await startLab(host, { nodes: 3, external: 0, keyroll: true })
  say(`lab ${lab.id} up`)
  const kr = await keyrollLab(host, lab)
  const cluster = lab.nodes.filter((n) => n.role === 'cluster')
  const endpoints = cluster.map((n) => `${n.address}:${n.port}`)
  const admin = createMinkmsClient({ endpoints, apiKey: lab.rootKey('cluster'), ca: lab.ca.pem })
  try {
    await admin.createEnclave('load')
    await admin.createKey('load', 'load-key')
  } finally {
    await admin.close()
  }
  const loadOpts = { endpoints, apiKey: lab.rootKey('cluster'), ca: lab.ca.pem, enclave: 'load', key: 'load-key', perSecond: o.perSecond }

  say(`client load without a rollout for ${o.beforeMs} ms`)
  const before = startClientLoad(loadOpts)
  await new Promise((resolve) => setTimeout(resolve, o.beforeMs))
  const beforeReport = await before.stop()
  say('rollout 1 (minHealthyTime 0s)')
  const r1 = await roll(kr, loadOpts, 1, { minHealthyTime: '0s' })
  say('rollout 1b (minHealthyTime 0s, stageNext false)')
  const r1b = await roll(kr, loadOpts, 2, { minHealthyTime: '0s', stageNext: false })
  say('rollout 2 (default strategy)')
  const r2 = await roll(kr, loadOpts, 3, undefined)
  say('rollout 3 (minHealthyTime 0s, stableFor 5s: the agent\'s shipped default window)')
  const r3 = await roll(kr, loadOpts, 4, { minHealthyTime: '0s' }, '5s')
  const p99Before = percentile(beforeReport.latencies, 99)
  return [
    `## keyroll-coordinator on a 3-node lab (load average at start ${loadAtStart}, at the end ${load()})`,
    '',
    `client load: ${o.perSecond} encrypt→decrypt round trips/s through every node's endpoint`,
    '',
    '| load | round trips | p50 ms | p99 ms | max ms | failed |',
    '|---|---|---|---|---|---|',
    loadLine('before (no rollout)', beforeReport),
    loadLine('during rollout 1 (minHealthyTime 0s)', r1.load),
    loadLine('during rollout 1b (minHealthyTime 0s, no staging)', r1b.load),
    loadLine('during rollout 2 (default strategy)', r2.load),
    '',
    `p99 during / before: rollout 1 ${(percentile(r1.load.latencies, 99) / p99Before).toFixed(2)}x, rollout 1b ${(percentile(r1b.load.latencies, 99) / p99Before).toFixed(2)}x, rollout 2 ${(percentile(r2.load.latencies, 99) / p99Before).toFixed(2)}x; failed operations ${r1.load.failed + r1b.load.failed + r2.load.failed} (target 0)`,
    ...[...r1.load.failures, ...r1b.load.failures, ...r2.load.failures].slice(0, 5).map((f) => `  failure at ${new Date(f.at).toISOString()}: ${f.message}`),
    '',
    ...timingLines('rollout 1', r1.rollout, r1.timing),
    '',
    ...timingLines('rollout 1b (no staging)', r1b.rollout, r1b.timing),
    '',
    `staging: rollout 1 ${r1.timing.ratio.toFixed(2)} (staged) vs rollout 1b ${r1b.timing.ratio.toFixed(2)} (every node applied whole)`,
    '',
    ...timingLines('rollout 3 (minHealthyTime 0s; stableFor 5 s, the agent\'s shipped default window)', r3.rollout, r3.timing),
    '',
    ...timingLines('rollout 2', r2.rollout, r2.timing)
  ]
}

async function main (): Promise<number> {
  let o: Options
  try {
    o = options()
  } catch (e) {
    process.stderr.write(`${errText(e)}\nusage: npm run bench:coordinator:lab -- [--before 20s] [--per-second 25]\n`)
    return 2
  }
  const host = new Teardowns()
  tearDownOnSignals(host, say)
  let code = 0
  try {
    const started = Date.now()
    say('booting the lab (3 cluster nodes with agents + the coordinator)')
    const lines = await bench(host, o)
    process.stdout.write(lines.join('\n') + '\n')
    say(`${Math.round((Date.now() - started) / 1000)} s`)
  } catch (e) {
    say(`benchmark failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
    code = 1
  } finally {
    const failures = await host.run()
    for (const m of failures) say(`teardown: ${m}`)
    if (failures.length > 0) code = 1
  }
  return code
}

process.exitCode = await main()
