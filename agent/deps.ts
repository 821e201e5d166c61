// Composition of the real core (STYLE R1/R2): real adapters at every port, the apply engine on
// top. `daemon` mode (keyroll-agent serve) also undoes an interrupted apply, watches for drift and
// converges the node to its desired revision; `command` mode (apply from the CLI) only undoes an
// interrupted apply first; `read` mode (plan, status) undoes nothing; `recover` mode (the unit's
// ExecStartPre) undoes nothing by itself and offers core.recover(), which puts files back but
// never restarts the unit.
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
import type { CoreMode, RecoverResult, RunningCore } from './cli/types.js'
import type { AgentConfig } from './config.js'
import { coordinatorGoAhead } from './convergence-slots.js'
import { createAgentMetrics } from './metrics.js'
import { ChokidarFileWatcher } from './os/chokidar-file-watcher.js'
import { FsFileStore } from './os/fs-file-store.js'
import { JournalctlJournal } from './os/journalctl-journal.js'
import { SystemctlServiceManager } from './os/systemctl-service-manager.js'
import type { ApplyResult } from './core.js'
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
  const applier = new ChangeApplier({
    store,
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

  const stop = new AbortController()
  let converging: Promise<void> | undefined
  const core = new RealAgentCore({
    node: config.node,
    applier,
    service,
    journal,
    state,
    metrics,
    ...(drift === undefined ? {} : { drift }),
    onClose: async () => {
      stop.abort()
      await converging?.catch(() => {})
      await minkms.close()
    }
  })

  if (opts.mode === 'recover') {
    core.recover = async () => recoverResult(await applier.recover({ deferRestart: true }), (await state.readApplied())?.revision ?? 0)
    return core
  }
  // Reads change nothing; an interrupted apply shows in status (checks.config).
  if (opts.mode === 'read') return core
  // An apply a killed agent left behind is undone before anything else touches the files.
  const recovered = await applier.recover()
  if (recovered !== undefined) log.warn({ result: recovered.result, revision: recovered.revision }, recovered.message)
  if (opts.mode === 'daemon') {
    const applied = await state.readApplied()
    await drift?.start(applied?.files ?? {})
    // Convergence runs in the background: the API must answer (health, status) meanwhile.
    const goAhead = config.coordinator === undefined
      ? undefined
      : await coordinatorGoAhead({ ...config.coordinator, node: config.node, unit: config.unit, clock, log, signal: stop.signal })
    core.convergence = goAhead === undefined ? 'running (no coordinator configured)' : 'waiting for the coordinator'
    converging = applier.converge(goAhead).then((r) => {
      core.convergence = r.state === 'applied' ? `applied revision ${r.result.revision}: ${r.result.result}` : r.state
      log.info({ state: r.state }, 'boot convergence done')
    }, (err: unknown) => {
      core.convergence = stop.signal.aborted ? 'stopped' : `failed: ${err instanceof Error ? err.message : String(err)}`
      if (!stop.signal.aborted) log.error({ err }, 'boot convergence failed')
    })
  }
  return core
}

// What `keyroll-agent recover` prints. A restore that failed is an error (exit non-zero): the
// pending record stays and the daemon tries again.
function recoverResult (r: ApplyResult | undefined, applied: number): RecoverResult {
  if (r === undefined) return { action: 'none', revision: applied, message: 'no interrupted change' }
  if (r.result === 'rollback-failed') throw new Error(r.message)
  return { action: r.result === 'changed' ? 'finished' : 'undone', revision: applied, message: r.message }
}
