// The agent's real API over the real apply engine, for integration tests of hostile input: real
// files in a temporary directory (FsFileStore), a real state directory, real metrics; fakes only
// where systemd would be (FakeServiceManager, a scripted verifier, a fake journal). Listens on
// 127.0.0.1:0, plain HTTP or mutual TLS, and closes at teardown.
import { randomBytes } from 'node:crypto'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Test } from 'tap'
import { RealAgentCore } from '../../agent/agent-core.js'
import { buildAgentApp, type AgentApp, type TlsMaterial } from '../../agent/app.js'
import { ApplyLock } from '../../agent/apply/apply-lock.js'
import { ChangeApplier } from '../../agent/apply/change-applier.js'
import type { Planner } from '../../agent/apply/planner.js'
import { WorkerPlanner } from '../../agent/apply/worker-planner.js'
import type { HttpEdgeLimits } from '../../agent/http-edge.js'
import { createAgentMetrics } from '../../agent/metrics.js'
import { FakeServiceManager } from '../../agent/os/fake-service-manager.js'
import { FsFileStore } from '../../agent/os/fs-file-store.js'
import { AgentStateStore } from '../../agent/state/agent-state.js'
import { SealedBox } from '../../agent/state/sealed-box.js'
import { systemClock } from '../../shared/clock.js'
import { CONFIG, ENV, ScriptedVerifier, silentLog } from './applier-fixture.js'
import { FakeJournal } from '../../agent/os/fake-journal.js'
import { captureLogger, testAgentConfig } from './fake-agent-core.js'

export interface RealAgent {
  base: string
  app: AgentApp
  dir: string
  files: { config: string, env: string }
  service: FakeServiceManager
  /** The unit's journal as GET /v1/journal serves it: push entries, break followers. */
  journal: FakeJournal
  state: AgentStateStore
  /** Every log line of the API and core. */
  lines: string[]
}

/**
 * Starts the API over a real applier; `modes` sets the managed files' modes (default 0640).
 * Plans run in a worker thread, as in the daemon, unless `planner` says otherwise. NDJSON
 * heartbeats are off unless `heartbeatMs` is given.
 */
export async function startRealAgent (t: Test, opts: { tls?: TlsMaterial, limits?: Partial<HttpEdgeLimits>, modes?: { config?: number, env?: number }, planner?: Planner, heartbeatMs?: number } = {}): Promise<RealAgent> {
  const dir = t.testdir({})
  await mkdir(join(dir, 'etc'), { recursive: true })
  const files = { config: join(dir, 'etc', 'config.yaml'), env: join(dir, 'etc', 'minkms.env') }
  await writeFile(files.config, CONFIG, { mode: opts.modes?.config ?? 0o640 })
  await writeFile(files.env, ENV, { mode: opts.modes?.env ?? 0o640 })
  const stateDir = join(dir, 'state')
  await mkdir(stateDir, { recursive: true, mode: 0o700 })
  const box = SealedBox.withKey(randomBytes(32))
  const state = new AgentStateStore(stateDir, box)
  await state.init()
  const service = new FakeServiceManager()
  const { logger, lines } = captureLogger()
  const planner = opts.planner ?? new WorkerPlanner()
  t.teardown(async () => { await planner.close() })
  const applier = new ChangeApplier({
    store: new FsFileStore(), state, service, planner, verifier: new ScriptedVerifier(service), clock: systemClock, log: silentLog, lock: new ApplyLock(stateDir)
  }, { files, fingerprintKey: box.derive('fingerprint'), keep: 5, verify: { deadlineMs: 10_000, stableForMs: 0 } })
  const journal = new FakeJournal()
  const core = new RealAgentCore({
    node: 'node1', applier, service, journal, state, log: silentLog, metrics: createAgentMetrics({ files: ['config', 'env'], processMetrics: true })
  })
  const managed = { files: { config: { path: files.config, kind: 'minkms-config' as const }, env: { path: files.env, kind: 'env' as const } }, stateDir }
  const config = testAgentConfig(opts.tls === undefined ? managed : { ...managed, devInsecureHttp: false, tls: { cert: 'x', key: 'x', clientCa: 'x' } })
  const app = buildAgentApp({ core, config, logger, heartbeatMs: opts.heartbeatMs ?? 0, ...(opts.tls === undefined ? {} : { tls: opts.tls }), ...(opts.limits === undefined ? {} : { limits: opts.limits }) })
  t.teardown(async () => { await app.close(); await core.close() })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return { base, app, dir, files, service, journal, state, lines }
}

/** Content and mode of the managed files, to prove a refused request touched nothing. */
export async function snapshotFiles (a: RealAgent): Promise<string> {
  const { readFile } = await import('node:fs/promises')
  const parts = await Promise.all(Object.values(a.files).map(async f => `${(await stat(f)).mode.toString(8)}:${await readFile(f, 'utf8')}`))
  return parts.join('\n---\n')
}

/** Own property names of Object.prototype, to prove no request polluted it. */
export function prototypeKeys (): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort()
}
