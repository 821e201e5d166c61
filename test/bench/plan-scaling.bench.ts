// Benchmark (not a test): how planning a change scales with the number of keys it sets and with
// the size of the config file, and how /health/live answers while the largest plan runs. Run with
// `npm run bench:plan`. Prints medians, the ratio of each to the baseline measured in this run
// (a one-key change on a small file), growth ratios (10x keys, 100x lines) and the targets.
// Plans run in a worker thread as in the daemon; `BENCH_PLANNER=inline` plans on the event loop
// (as before the worker), for a before/after on one machine. Figures depend on the machine;
// nothing here is asserted.
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { RealAgentCore } from '../../agent/agent-core.js'
import { buildAgentApp } from '../../agent/app.js'
import { ApplyLock } from '../../agent/apply/apply-lock.js'
import { ChangeApplier } from '../../agent/apply/change-applier.js'
import { InlinePlanner, type Planner } from '../../agent/apply/planner.js'
import { WorkerPlanner } from '../../agent/apply/worker-planner.js'
import { createAgentMetrics } from '../../agent/metrics.js'
import { FakeServiceManager } from '../../agent/os/fake-service-manager.js'
import { FsFileStore } from '../../agent/os/fs-file-store.js'
import { AgentStateStore } from '../../agent/state/agent-state.js'
import { SealedBox } from '../../agent/state/sealed-box.js'
import { CHANGE_LIMITS } from '../../shared/change/limits.js'
import { systemClock } from '../../shared/clock.js'
import { createLogger } from '../../shared/logger.js'
import { CONFIG, ENV, ScriptedVerifier, silentLog } from '../helpers/applier-fixture.js'
import { FakeJournal } from '../../agent/os/fake-journal.js'

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5)
const INLINE = process.env.BENCH_PLANNER === 'inline'

function keysChange (n: number, valueLength = 8): unknown {
  const set: Record<string, string> = {}
  for (let i = 0; i < n; i++) set[`section${i % 20}.key${i}`] = `v${i}`.padEnd(valueLength, 'x')
  return { revision: 1, files: { config: { set } }, restart: 'never' }
}

function configOfLines (lines: number): string {
  const out = ['version: v1', 'tls:', '  ca: /etc/minkms/certs/CAs']
  for (let i = out.length; i < lines; i++) out.push(`setting${i}: value-${i}   # comment ${i}`)
  return out.join('\n') + '\n'
}

interface Bed { base: string, close: () => Promise<void>, setConfig: (text: string) => Promise<void> }

async function bed (): Promise<Bed> {
  const dir = await mkdtemp(join(tmpdir(), 'keyroll-bench-'))
  const files = { config: join(dir, 'config.yaml'), env: join(dir, 'minkms.env') }
  await writeFile(files.config, CONFIG)
  await writeFile(files.env, ENV)
  const stateDir = join(dir, 'state')
  await mkdir(stateDir, { mode: 0o700 })
  const box = SealedBox.withKey(randomBytes(32))
  const state = new AgentStateStore(stateDir, box)
  await state.init()
  const service = new FakeServiceManager()
  const planner: Planner = INLINE ? new InlinePlanner() : new WorkerPlanner()
  const applier = new ChangeApplier({ store: new FsFileStore(), state, service, planner, verifier: new ScriptedVerifier(service), clock: systemClock, log: silentLog, lock: new ApplyLock(stateDir) },
    { files, fingerprintKey: box.derive('fingerprint'), keep: 5, verify: { deadlineMs: 10_000, stableForMs: 0 } })
  const core = new RealAgentCore({ node: 'bench', applier, service, journal: new FakeJournal(), state, log: silentLog, metrics: createAgentMetrics({ files: ['config', 'env'] }) })
  const logger = createLogger({ level: 'silent' })
  const app = buildAgentApp({ core, config: { node: 'bench', unit: 'minkms.service', files: { config: { path: files.config, kind: 'minkms-config' }, env: { path: files.env, kind: 'env' } }, stateDir, listen: { host: '127.0.0.1', port: 0 }, devInsecureHttp: true, minkms: { endpoint: 'localhost:7373' }, verify: { deadline: '10s', stableFor: '0s' }, backups: { keep: 5 }, log: { level: 'silent' } }, logger, heartbeatMs: 0 })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return { base, setConfig: async (text) => { await writeFile(files.config, text) }, close: async () => { await app.close(); await core.close(); await planner.close(); await rm(dir, { recursive: true, force: true }) } }
}

// Each plan sees a file it has not seen before (a run counter in a comment): the editor keeps the
// documents of the last few texts, and repeating one text would measure that cache, not the work.
let currentConfig = CONFIG
let run = 0
async function plan (b: Bed, change: unknown): Promise<number> {
  await b.setConfig(`${currentConfig}# run ${++run}\n`)
  const body = JSON.stringify(change)
  const start = performance.now()
  const res = await request(`${b.base}/v1/plan`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, headersTimeout: 600_000, bodyTimeout: 600_000 })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`plan answered ${res.statusCode}: ${text.slice(0, 300)}`)
  return performance.now() - start
}

async function median (fn: () => Promise<number>): Promise<number> {
  const xs: number[] = []
  for (let i = 0; i < REPEAT; i++) xs.push(await fn())
  xs.sort((a, b) => a - b)
  return xs[Math.floor(xs.length / 2)] ?? Number.NaN
}

/**
 * Latencies of /health/live polled every 10 ms while `work` runs. The poller shares the event
 * loop with the server, so each latency counts from when the probe was due, not from when a
 * blocked loop let it start: a plan that holds the loop shows as a slow answer.
 */
async function liveWhile (b: Bed, work: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = []
  const state = { done: false }
  const poll = (async () => {
    let due = performance.now()
    while (!state.done) {
      const res = await request(`${b.base}/health/live`)
      await res.body.text()
      out.push(performance.now() - due)
      due = performance.now() + 10
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  })()
  await work()
  state.done = true
  await poll
  return out
}

const b = await bed()
try {
  await plan(b, keysChange(10)) // warm-up
  const baseline = await median(async () => await plan(b, keysChange(1)))
  const k100 = await median(async () => await plan(b, keysChange(100)))
  const k1000 = await median(async () => await plan(b, keysChange(1000)))
  // At the limits: the most keys a change may set, with values filling the body to ~1 MiB.
  const atLimitChange = keysChange(CHANGE_LIMITS.maxKeys, Math.floor(CHANGE_LIMITS.maxBytes * 0.9 / CHANGE_LIMITS.maxKeys) - 40)
  const atLimitBytes = Buffer.byteLength(JSON.stringify(atLimitChange))
  const atLimit = await median(async () => await plan(b, atLimitChange))
  currentConfig = configOfLines(100)
  const l100 = await median(async () => await plan(b, keysChange(1)))
  currentConfig = configOfLines(10_000)
  const l10k = await median(async () => await plan(b, keysChange(1)))
  currentConfig = CONFIG
  const live = await liveWhile(b, async () => { for (let i = 0; i < 3; i++) await plan(b, atLimitChange) })
  currentConfig = configOfLines(10_000)
  const liveBig = await liveWhile(b, async () => { for (let i = 0; i < 3; i++) await plan(b, keysChange(CHANGE_LIMITS.maxKeys)) })
  live.sort((x, y) => x - y)
  liveBig.sort((x, y) => x - y)
  const ms = (x: number): string => `${x.toFixed(1)} ms`
  const row = (name: string, x: number): string => `${name.padEnd(52)} ${ms(x).padStart(10)}  ${(x / baseline).toFixed(1).padStart(7)}x baseline`
  console.log(`plan scaling (median of ${REPEAT}; POST /v1/plan over loopback, real files; planned ${INLINE ? 'on the event loop (BENCH_PLANNER=inline)' : 'in the worker thread'})`)
  console.log(row('baseline: 1 key, 9-line config', baseline))
  console.log(row('100 keys', k100))
  console.log(row('1,000 keys', k1000))
  console.log(row(`at the limit: ${CHANGE_LIMITS.maxKeys} keys, ${(atLimitBytes / 1024).toFixed(0)} KiB body`, atLimit))
  console.log(row('1 key, config of 100 lines', l100))
  console.log(row('1 key, config of 10,000 lines', l10k))
  const keyGrowth = k1000 / k100
  const lineGrowth = l10k / l100
  console.log(`growth: 10x keys -> ${keyGrowth.toFixed(1)}x time (target < 20x: ${keyGrowth < 20 ? 'met' : 'NOT met'}); 100x lines -> ${lineGrowth.toFixed(1)}x time (near-linear: < 200x: ${lineGrowth < 200 ? 'met' : 'NOT met'})`)
  const p = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? Number.NaN
  const spread = (xs: number[]): string => `${xs.length} answers, p50 ${ms(p(xs, 0.5))}, p99 ${ms(p(xs, 0.99))}, max ${ms(xs.at(-1) ?? Number.NaN)}`
  console.log(`/health/live while the at-limit plan runs: ${spread(live)} (target < 100 ms: ${(live.at(-1) ?? Infinity) < 100 ? 'met' : 'NOT met'})`)
  console.log(`/health/live while 1,000 keys are planned on a 10,000-line config: ${spread(liveBig)} (target < 100 ms: ${(liveBig.at(-1) ?? Infinity) < 100 ? 'met' : 'NOT met'})`)
} finally {
  await b.close()
}
