// The composition root of the real core: real adapters at every port, the apply engine on top,
// built by plain construction. The mode only decides what runs once it is built (see CoreMode in
// agent/core.ts): `daemon` starts the background work, `command` undoes an interrupted apply
// first, `read` and `recover` start nothing (the CLI then calls status/plan, or recover()).
import { mkdir, readFile } from 'node:fs/promises'
import { createMinkmsClient } from '../shared/minkms/client.js'
import { parseDuration } from '../shared/change/duration.js'
import { systemClock } from '../shared/clock.js'
import type { Logger } from '../shared/logger.js'
import { processRunner } from '../shared/process-runner.js'
import { RealAgentCore } from './agent-core.js'
import { ApplyLock } from './apply/apply-lock.js'
import { ChangeApplier } from './apply/change-applier.js'
import { DriftDetector } from './apply/drift-detector.js'
import { driftNow } from './apply/drift-now.js'
import { InlinePlanner } from './apply/planner.js'
import { WorkerPlanner } from './apply/worker-planner.js'
import type { CoreMode, RunningCore } from './core.js'
import type { AgentConfig } from './config.js'
import { coordinatorGoAhead } from './convergence-slots.js'
import { createAgentMetrics } from './metrics.js'
import { ChokidarFileWatcher } from './os/chokidar-file-watcher.js'
import { FsFileStore } from './os/fs-file-store.js'
import { JournalctlJournal } from './os/journalctl-journal.js'
import { SystemctlServiceManager } from './os/systemctl-service-manager.js'
import { AgentStateStore } from './state/agent-state.js'
import { SealedBox } from './state/sealed-box.js'
import { RestartVerifier } from './verify/restart-verifier.js'

export async function createCore (config: AgentConfig, logger: Logger, opts: { mode: CoreMode }): Promise<RunningCore> {
  const log = logger.child({ component: 'core' })
  const clock = systemClock
  const service = new SystemctlServiceManager({ unit: config.unit, runner: processRunner })
  const journal = new JournalctlJournal({ runner: processRunner })
  const store = new FsFileStore()
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 })
  const box = await SealedBox.open(config.stateDir)
  const state = new AgentStateStore(config.stateDir, box)
  await state.init()
  const files = { config: config.files.config.path, env: config.files.env.path }
  const metrics = createAgentMetrics({ files: Object.keys(files), processMetrics: opts.mode === 'daemon' })
  const minkms = createMinkmsClient({
    endpoints: [config.minkms.endpoint],
    ...(config.minkms.ca === undefined ? {} : { ca: await readFile(config.minkms.ca) }),
    timeoutMs: 2000
  })
  const verifier = new RestartVerifier({ service, journal, clock, health: async () => await minkms.ready() })
  const fingerprintKey = box.derive('fingerprint')
  const drift = opts.mode === 'daemon'
    ? new DriftDetector({
      watcher: new ChokidarFileWatcher({ onError: (err) => { log.warn({ err }, 'file watcher error') } }),
      store,
      clock,
      log: logger.child({ component: 'drift' }),
      fingerprintKey,
      onChange: (entries) => { for (const name of Object.keys(files)) metrics.setDrift(name, entries.some((e) => e.name === name)) }
    }, files)
    : undefined
  // The daemon plans in a worker thread so that its API keeps answering during a large plan; a
  // one-shot CLI command has nothing else to serve and plans in its own thread.
  const planner = opts.mode === 'daemon' ? new WorkerPlanner() : new InlinePlanner()
  const applier = new ChangeApplier({
    store,
    planner,
    state,
    service,
    verifier,
    clock,
    log: logger.child({ component: 'apply' }),
    lock: new ApplyLock(config.stateDir),
    ...(drift === undefined ? {} : { writes: drift }),
    observer: {
      result: (r) => {
        metrics.recordApply(r.result)
        for (const v of [r.verdict, r.rollbackVerdict]) if (v !== undefined) metrics.observeVerdict(v)
      },
      applying: (on) => { metrics.setApplying(on) }
    }
  }, {
    files,
    fingerprintKey,
    keep: config.backups.keep,
    verify: { deadlineMs: parseDuration(config.verify.deadline) ?? 60_000, stableForMs: parseDuration(config.verify.stableFor) ?? 5000 }
  })

  const core = new RealAgentCore({
    node: config.node,
    applier,
    service,
    journal,
    state,
    metrics,
    log,
    ...(drift === undefined
      ? { driftNow: async () => await driftNow({ files, committed: (await state.readApplied())?.files, store, fingerprintKey, now: clock.now() }) }
      : { drift }),
    release: async () => { await planner.close(); await minkms.close() }
  })
  if (opts.mode === 'command') await core.undoInterrupted()
  if (opts.mode === 'daemon') {
    const coordinator = config.coordinator
    await core.startDaemon(async (signal) => coordinator === undefined
      ? undefined
      : await coordinatorGoAhead({ ...coordinator, node: config.node, unit: config.unit, clock, log, signal }))
  }
  return core
}
