// The HSM migration orchestrator: HsmMigrationControl over the rollout engine. It checks what can
// be checked at once (cluster, self-sealing servers, one active migration or rollout per
// cluster), stores the migration with its secrets sealed, and runs it (migration-runner.ts);
// pause, resume and abort act on the phase's rollout when one runs, and on the migration's own
// flags between phases. Everything durable is in the store, so a new orchestrator over the same
// store continues every unfinished migration (resumeAll at start).
import { randomUUID } from 'node:crypto'
import type { Clock } from '../../shared/clock.js'
import type { Logger } from '../../shared/logger.js'
import { generateApiKey } from '../../shared/minkms/keys.js'
import { TERMINAL_HSM_MIGRATION_STATES, type HsmMigration, type HsmMigrationEvent, type HsmMigrationStartAnswer, type PhaseBMode } from '../../shared/schemas/hsm-migration.js'
import { TERMINAL_ROLLOUT_STATES } from '../../shared/schemas/rollout.js'
import { Secret } from '../../shared/secrets/secret.js'
import type { ClusterConfig } from '../config-schema.js'
import { KeyedLock } from '../engine/cluster-lock.js'
import type { Sealer } from '../engine/sealer.js'
import { CoordinatorError } from '../errors.js'
import type { AgentClient, AgentPreflightClient } from '../ports/agent-client.js'
import type { ClusterHsmAdmin, ClusterProbe } from '../ports/cluster-probe.js'
import type { HsmMigrationControl, HsmMigrationStart } from '../ports/hsm-migration-control.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { RolloutControl } from '../ports/rollout-control.js'
import type { HsmMigrationStore, StoredHsmMigration } from '../store/hsm-migration-store.js'
import type { RolloutStore } from '../store/rollout-store.js'
import { dryRun } from './dry-run.js'
import type { ExternalKmsAccess } from './external-kms.js'
import { MigrationEventLog } from './migration-event-log.js'
import { MigrationRunner, type RootKeyAdopter, type RunnerDeps } from './migration-runner.js'
import { openSecrets, sealSecrets } from './migration-secrets.js'
import { checkPhaseBMode, stagingOf } from './phase-b-mode.js'
import { selfSealingServers } from './self-seal.js'

/** What the orchestrator takes. */
export interface HsmOrchestratorOptions {
  store: HsmMigrationStore
  /** The rollout engine itself (not the API's guarded control): the phases' rollouts. */
  rollouts: RolloutControl
  /** The rollouts' store: active rollouts (one active per cluster) and the audit log. */
  rolloutStore: Pick<RolloutStore, 'activeRollouts' | 'appendAudit'>
  agents: AgentClient & AgentPreflightClient
  probe: ClusterProbe & ClusterHsmAdmin
  external: ExternalKmsAccess
  sealer: Sealer
  clock: Clock
  log: Logger
  clusters: readonly ClusterConfig[]
  /** Adopts a cluster's root API key that changed with phase B (gate/root-key-adoption.ts); without it nothing is adopted after phase B. */
  rootKeys?: RootKeyAdopter
  /** Pause between looks at a phase's rollout when no event woke the runner (default 2 s). */
  pollMs?: number
  /** Per-request timeout of each node's preflight calls, ms (the agent's default when absent). */
  preflightTimeoutMs?: number
  newId?: () => string
}

/** HsmMigrationControl, plus what the daemon needs. */
export class HsmMigrationOrchestrator implements HsmMigrationControl {
  readonly #o: HsmOrchestratorOptions
  readonly #runners = new Map<string, MigrationRunner>()
  readonly #events: MigrationEventLog
  readonly #lock = new KeyedLock()
  readonly #deps: RunnerDeps
  #closed = false

  constructor (o: HsmOrchestratorOptions) {
    this.#o = o
    const log = o.log.child({ component: 'hsm-migration' })
    this.#events = new MigrationEventLog(o.store, log)
    const staging = stagingOf(o.agents)
    this.#deps = {
      store: o.store,
      rollouts: o.rollouts,
      agents: o.agents,
      probe: o.probe,
      audit: o.rolloutStore,
      external: o.external,
      events: this.#events,
      sealer: o.sealer,
      clock: o.clock,
      log,
      pollMs: o.pollMs ?? 2000,
      ...(staging === undefined ? {} : { staging }),
      ...(o.rootKeys === undefined ? {} : { rootKeys: o.rootKeys }),
      ...(o.preflightTimeoutMs === undefined ? {} : { preflightTimeoutMs: o.preflightTimeoutMs })
    }
  }

  async start (req: HsmMigrationStart): Promise<HsmMigrationStartAnswer> {
    this.#open()
    const nodes = this.#nodes(req.cluster)
    checkPhaseBMode(req, this.#deps.staging)
    if (req.removeLocalSealedCopy && req.keepLocalHsm) {
      throw new CoordinatorError('CRD_BAD_INPUT', 'removeLocalSealedCopy needs phase B: the local HSM\'s sealed copy can only go once no node depends on the local HSM, so it cannot be combined with keepLocalHsm')
    }
    const self = selfSealingServers(req.external, nodes)
    if (self.length > 0) {
      throw new CoordinatorError('CRD_HSM_SELF_SEAL', `the external servers include the cluster's own node(s): ${self.map((s) => `${s.server} is ${s.node}`).join(', ')}; a cluster cannot seal its root key with itself: list only the external Key Manager's servers`)
    }
    if (req.dryRun) return await dryRun(this.#deps, req, nodes, await this.#busy(req.cluster))
    return await this.#lock.run(req.cluster, async () => {
      const busy = await this.#busy(req.cluster)
      if (busy !== undefined) throw new CoordinatorError('CRD_ROLLOUT_CONFLICT', busy)
      const now = this.#o.clock.now()
      const migration: HsmMigration = {
        id: (this.#o.newId ?? randomUUID)(),
        cluster: req.cluster,
        external: [...req.external],
        enclave: req.enclave,
        key: req.key,
        keepLocalHsm: req.keepLocalHsm,
        replaceHsm: req.replaceHsm,
        removeLocalSealedCopy: req.removeLocalSealedCopy,
        phaseB: req.phaseB,
        state: 'running',
        phase: 'provision',
        createdBy: req.actor,
        createdAt: now,
        updatedAt: now,
        warnings: [],
        rollouts: {},
        nodes: nodes.map((n) => ({ name: n.name, phases: {} }))
      }
      // The identity's API key is made (and sealed) before anything reaches the external Key
      // Manager, so a run resumed after a crash provisions with the same key and creates nothing.
      const secrets = { adminKey: req.adminKey, apiKey: new Secret(generateApiKey().key) }
      const work = req.strategy === undefined ? {} : { strategy: { ...req.strategy } }
      await this.#o.store.createMigration({ migration, work, sealedSecrets: sealSecrets(this.#o.sealer, secrets) })
      await this.#o.rolloutStore.appendAudit({
        at: now,
        actor: req.actor,
        action: 'hsm-migration.start',
        target: migration.id,
        detail: { cluster: req.cluster, external: migration.external, enclave: req.enclave, key: req.key, keepLocalHsm: req.keepLocalHsm, replaceHsm: req.replaceHsm, removeLocalSealedCopy: req.removeLocalSealedCopy, phaseB: req.phaseB, ...(req.phaseB === 'all-at-once' ? { allowWriteOutage: true } : {}), ...(req.strategy === undefined ? {} : { strategy: req.strategy }) }
      })
      const runner = this.#runner({ migration, work, sealedSecrets: '' }, secrets)
      await runner.event('migration', `migration started by ${req.actor}: ${req.cluster} onto ${req.external.join(', ')} (enclave ${req.enclave}, key ${req.key}` +
        `${req.phaseB === 'all-at-once' ? '; phase B all at once, write outage accepted' : ''})`, { state: 'running', phaseB: req.phaseB })
      runner.start()
      return { migration: runner.migration, ...(req.revealApiKey ? { apiKey: secrets.apiKey.reveal() } : {}) }
    })
  }

  async pause (id: string, actor: string): Promise<HsmMigration> {
    return await this.#steer(id, actor, 'pause', async (runner) => {
      const m = runner.migration
      if (m.state === 'paused') return
      if (m.state !== 'running') throw stateError(m, 'pause')
      await runner.save((m, w) => { w.pauseRequested = true; m.state = 'paused' })
      if (runner.rolloutId !== undefined) await this.#o.rollouts.pause(runner.rolloutId, actor).catch(() => undefined)
      await runner.event('migration', `paused by ${actor}${runner.rolloutId === undefined ? ' (before the next phase)' : ''}`, { state: 'paused' })
    })
  }

  async resume (id: string, actor: string, opts: { phaseB?: PhaseBMode, allowWriteOutage?: boolean } = {}): Promise<HsmMigration> {
    return await this.#steer(id, actor, 'resume', async (runner) => {
      const m = runner.migration
      const switchTo = opts.phaseB !== undefined && opts.phaseB !== (m.phaseB ?? 'rolling') ? opts.phaseB : undefined
      if (switchTo !== undefined) this.#checkModeSwitch(runner, switchTo, opts.allowWriteOutage === true)
      if (m.state === 'running') return
      if (m.state === 'paused') {
        await runner.save((m, w) => { w.pauseRequested = false; m.state = 'running' })
        const rollout = m.phase === 'A' || m.phase === 'B' ? m.rollouts[m.phase] : undefined
        const r = rollout === undefined ? undefined : await this.#o.rollouts.get(rollout)
        if (r !== undefined && r.state === 'paused') await this.#o.rollouts.resume(r.id, actor)
        await runner.event('migration', `resumed by ${actor}`, { state: 'running' })
        return
      }
      if (m.state !== 'failed') throw stateError(m, 'resume')
      const busy = await this.#busy(m.cluster, m.id)
      if (busy !== undefined) throw new CoordinatorError('CRD_ROLLOUT_CONFLICT', busy)
      await runner.save((m, w) => {
        const phase = m.phase
        if (phase === 'A' || phase === 'B') {
          const earlier = m.rollouts[phase]
          if (earlier !== undefined) w.earlierRollouts = [...(w.earlierRollouts ?? []), { phase, id: earlier }]
          delete m.rollouts[phase]
        }
        m.state = 'running'
        if (switchTo !== undefined) m.phaseB = switchTo
        delete m.message
        delete m.finishedAt
        w.abortRequested = false
        w.pauseRequested = false
      })
      const mode = switchTo === undefined ? '' : `; phase B now ${switchTo}${switchTo === 'all-at-once' ? ', write outage accepted' : ''}`
      await runner.event('migration', `resumed by ${actor} from ${m.phase === 'A' || m.phase === 'B' ? `phase ${m.phase} (nodes already done are not touched again)` : m.phase}${mode}`, { state: 'running', ...(switchTo === undefined ? {} : { phaseB: switchTo }) })
    }, true)
  }

  async abort (id: string, actor: string): Promise<HsmMigration> {
    return await this.#steer(id, actor, 'abort', async (runner) => {
      const m = runner.migration
      if (TERMINAL_HSM_MIGRATION_STATES.includes(m.state)) throw stateError(m, 'abort')
      await runner.save((_m, w) => { w.abortRequested = true; w.pauseRequested = false })
      await runner.event('migration', `abort asked by ${actor}: stops after the node in flight`)
      if (runner.rolloutId !== undefined) await this.#o.rollouts.abort(runner.rolloutId, actor).catch(() => undefined)
    }, true)
  }

  async get (id: string): Promise<HsmMigration | undefined> {
    return this.#runners.get(id)?.migration ?? (await this.#o.store.getMigration(id))?.migration
  }

  async list (opts?: { cluster?: string, limit?: number }): Promise<HsmMigration[]> {
    return await this.#o.store.listMigrations(opts)
  }

  async events (id: string, opts?: { from?: number, limit?: number }): Promise<HsmMigrationEvent[]> {
    return await this.#o.store.events(id, opts)
  }

  subscribe (id: string, onEvent: (e: HsmMigrationEvent) => void): () => void {
    return this.#events.subscribe(id, onEvent)
  }

  /** Continues every unfinished migration of the store (call once at start, after the engine's resumeAll). */
  async resumeAll (): Promise<void> {
    this.#open()
    for (const stored of await this.#o.store.activeMigrations()) {
      if (this.#runners.has(stored.migration.id)) continue
      if (this.#o.clusters.every((c) => c.name !== stored.migration.cluster)) {
        this.#deps.log.error({ migration: stored.migration.id, cluster: stored.migration.cluster }, 'an active HSM migration names a cluster the config no longer has; left as it is')
        continue
      }
      const runner = this.#runner(stored, openSecrets(this.#o.sealer, stored.sealedSecrets))
      await runner.event('info', `the coordinator restarted; the migration goes on from ${stored.migration.phase}`)
      runner.start()
    }
  }

  /** Stops every runner without changing stored state (a restart resumes). */
  async close (): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#runners.values()].map(async (r) => { await r.close() }))
    this.#runners.clear()
  }

  /** Resolves when the migration's runner stopped (ended, paused between phases, or closed). */
  async finished (id: string): Promise<void> { await this.#runners.get(id)?.finished }

  /**
   * Runs a steering command under the cluster's lock, on the live runner or one made from the
   * store; `restart`: start the runner afterwards when it is not running (resume, abort).
   */
  async #steer (id: string, actor: string, what: 'pause' | 'resume' | 'abort', act: (r: MigrationRunner) => Promise<void>, restart = false): Promise<HsmMigration> {
    this.#open()
    const known = await this.get(id)
    if (known === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `no HSM migration ${id}`)
    return await this.#lock.run(known.cluster, async () => {
      let runner = this.#runners.get(id)
      let running = runner !== undefined
      if (runner === undefined) {
        const stored = await this.#o.store.getMigration(id)
        if (stored === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `no HSM migration ${id}`)
        if (TERMINAL_HSM_MIGRATION_STATES.includes(stored.migration.state) && !(what === 'resume' && stored.migration.state === 'failed')) throw stateError(stored.migration, what)
        runner = this.#runner(stored, openSecrets(this.#o.sealer, stored.sealedSecrets))
        running = false
      }
      const before = runner.migration.state
      try {
        await act(runner)
      } catch (err) {
        // A runner made here for a stopped migration and never started must not stay registered:
        // the next steer would take it for a running one and only poke it (a refused resume, e.g.
        // a busy cluster, used to make the next resume a no-op until the coordinator restarted).
        if (!running && this.#runners.get(id) === runner) this.#runners.delete(id)
        throw err
      }
      await this.#o.rolloutStore.appendAudit({
        at: this.#o.clock.now(),
        actor,
        action: `hsm-migration.${what}`,
        target: id,
        detail: { cluster: runner.migration.cluster, phase: runner.migration.phase, from: before, to: runner.migration.state }
      })
      if (running) runner.poke()
      else if (restart || runner.migration.state === 'running') runner.start()
      else this.#runners.delete(id)
      return runner.migration
    })
  }

  /**
   * A resume may change how phase B restarts the nodes (e.g. all at once after a rolling phase B
   * halted on an identity change) only for a failed migration whose phase B has not completed and
   * has no all-at-once step left to finish; all-at-once needs allowWriteOutage as at start.
   * Refused (400/409) before anything is stored.
   */
  #checkModeSwitch (runner: MigrationRunner, to: PhaseBMode, allowWriteOutage: boolean): void {
    const m = runner.migration
    if (m.state !== 'failed') {
      throw new CoordinatorError('CRD_ROLLOUT_STATE', `HSM migration ${m.id} is ${m.state}: phase B's mode can change only when resuming a failed migration; resume it without phaseB, or wait for it to fail or end`)
    }
    if (!(m.phase === 'provision' || m.phase === 'preflight' || m.phase === 'A' || m.phase === 'B')) {
      throw new CoordinatorError('CRD_ROLLOUT_STATE', `HSM migration ${m.id} failed in ${m.phase}, after phase B: there is no phase B left to run ${to}`)
    }
    const pending = runner.work.allAtOnce?.step
    if (pending !== undefined) {
      throw new CoordinatorError('CRD_ROLLOUT_STATE', `HSM migration ${m.id}'s all-at-once phase B has a step left to finish (${pending}): resume it without phaseB first`)
    }
    checkPhaseBMode({ phaseB: to, allowWriteOutage, keepLocalHsm: m.keepLocalHsm }, this.#deps.staging)
  }

  /** Why `cluster` cannot take a migration now (another active migration or rollout), or undefined. */
  async #busy (cluster: string, self?: string): Promise<string | undefined> {
    const m = (await this.#o.store.activeMigrations()).find((s) => s.migration.cluster === cluster && s.migration.id !== self)
    if (m !== undefined) return `cluster ${cluster} has an active HSM migration ${m.migration.id} (${m.migration.state}, phase ${m.migration.phase}); wait for it, or pause/abort it`
    const r = (await this.#o.rolloutStore.activeRollouts()).find((s) => s.rollout.cluster === cluster && !TERMINAL_ROLLOUT_STATES.includes(s.rollout.state))
    if (r !== undefined) return `cluster ${cluster} has an active rollout ${r.rollout.id} (${r.rollout.state}); wait for it, or pause/abort it`
    return undefined
  }

  #runner (stored: StoredHsmMigration, secrets: ReturnType<typeof openSecrets>): MigrationRunner {
    const id = stored.migration.id
    const runner: MigrationRunner = new MigrationRunner(stored.migration, stored.work, secrets, this.#nodes(stored.migration.cluster), this.#deps, () => {
      if (this.#runners.get(id) === runner) this.#runners.delete(id)
    })
    this.#runners.set(id, runner)
    return runner
  }

  #nodes (cluster: string): NodeRef[] {
    const c = this.#o.clusters.find((x) => x.name === cluster)
    if (c === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `no cluster ${cluster}`)
    return c.nodes.map((n) => ({ cluster, name: n.name, agentUrl: n.agent, minkms: n.minkms }))
  }

  #open (): void {
    if (this.#closed) throw new Error('the HSM migration orchestrator is closed')
  }
}

function stateError (m: HsmMigration, what: string): CoordinatorError {
  return new CoordinatorError('CRD_ROLLOUT_STATE', `HSM migration ${m.id} is ${m.state}${m.state === 'succeeded' || m.state === 'aborted' ? '' : ` (phase ${m.phase})`}; it cannot ${what}`)
}
