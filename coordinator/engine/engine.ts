// The rollout engine: RolloutControl and SlotControl over the ports. It owns one runner per
// active rollout (runner.ts); everything durable is in the store, so a new engine over the same
// store continues where a killed one stopped (resumeAll).
import { randomUUID } from 'node:crypto'
import type { ChangeSpec } from '../../shared/change/schema.js'
import type { Clock } from '../../shared/clock.js'
import type { Logger } from '../../shared/logger.js'
import type { ClusterPlan, Rollout, RolloutEvent, Strategy } from '../../shared/schemas/rollout.js'
import type { ClusterConfig } from '../config-schema.js'
import { CoordinatorError } from '../errors.js'
import { readJournal as defaultReadJournal, type ReadJournal } from '../gate/journal-reading.js'
import type { AgentClient, AgentStagingClient } from '../ports/agent-client.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { RolloutControl, SlotAnswer, SlotControl, SlotRequest, StartRequest } from '../ports/rollout-control.js'
import type { RolloutStore, StoredRollout } from '../store/rollout-store.js'
import { KeyedLock } from './cluster-lock.js'
import { planCluster } from './cluster-plan.js'
import { EventLog } from './event-log.js'
import { isTerminal, MACHINE_DEFAULTS } from './machine.js'
import type { Command } from './machine-types.js'
import { firstUnhealthy } from './node-health.js'
import { RolloutRunner, type RunnerDeps } from './runner.js'
import type { Sealer } from './sealer.js'
import { SlotService } from './slots.js'
import { stagingClientOf } from './stager.js'
import { resolveStrategy } from './strategy.js'

/** What createEngine takes. */
export interface EngineOptions {
  store: RolloutStore
  agents: AgentClient
  /**
   * Stages the next node's change while the current one restarts (strategy `stageNext`). Default:
   * `agents`, when it implements AgentStagingClient; `false`: never (every node is applied).
   */
  staging?: AgentStagingClient | false
  probe: ClusterProbe
  clock: Clock
  log: Logger
  sealer: Sealer
  clusters: readonly ClusterConfig[]
  /** Strategy defaults of this coordinator, under each cluster's and each request's. */
  defaults?: Strategy
  /** Key of the `***<fingerprint>` of secrets in a plan's change view (stable plan hashes); default: unkeyed `***`. */
  fingerprintKey?: Uint8Array | string
  /** Pause between polls (a blocked step, a gate check, an agent's status); default 2 s. */
  pollMs?: number
  /** Boot slots: ttl (default 2 min) and the retry hint of a refusal (default 5 s). */
  slotTtlMs?: number
  slotRetryAfterMs?: number
  /** The coordinator's reading of a node's journal (default gate/journal-reading.ts). */
  readJournal?: ReadJournal
  newId?: () => string
}

/** The engine as the daemon uses it. */
export type Engine = RolloutControl & SlotControl & {
  /** Continues every active rollout of the store (call once at start). */
  resumeAll: () => Promise<void>
  /** Stops everything in flight without changing stored state, so a restart resumes. */
  close: () => Promise<void>
}

/** RolloutControl + SlotControl. */
export class RolloutEngine implements RolloutControl, SlotControl {
  readonly #o: EngineOptions
  readonly #runners = new Map<string, RolloutRunner>()
  readonly #events: EventLog
  readonly #clusterLock = new KeyedLock()
  readonly #startLock = new KeyedLock()
  readonly #slots: SlotService
  readonly #deps: RunnerDeps
  #closed = false

  constructor (o: EngineOptions) {
    this.#o = o
    const log = o.log.child({ component: 'engine' })
    this.#events = new EventLog(o.store, log)
    this.#deps = {
      store: o.store,
      agents: o.agents,
      ...stagingOption(o),
      probe: o.probe,
      clock: o.clock,
      log,
      events: this.#events,
      clusterLock: this.#clusterLock,
      readJournal: o.readJournal ?? defaultReadJournal,
      machine: { ...MACHINE_DEFAULTS, ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }) }
    }
    this.#slots = new SlotService(o.store, o.clock, this.#clusterLock, o.clusters, {
      ttlMs: o.slotTtlMs ?? 120_000,
      retryAfterMs: o.slotRetryAfterMs ?? 5000,
      ...(o.newId === undefined ? {} : { newId: o.newId })
    })
  }

  async plan (cluster: string, change: ChangeSpec, _actor: string): Promise<ClusterPlan> {
    return await planCluster(this.#o.agents, cluster, this.#nodes(cluster), change, this.#o.fingerprintKey)
  }

  async start (req: StartRequest): Promise<Rollout> {
    this.#open()
    if (req.expectHsm !== undefined && req.expectHsm.trim() === '') throw new CoordinatorError('CRD_BAD_INPUT', 'expectHsm, when given, names an HSM as minkms does (e.g. hsm:minio:minkms)')
    const cfg = this.#cluster(req.cluster)
    const nodes = this.#nodes(req.cluster)
    // Serialised per cluster, so two starts cannot both pass the checks below.
    const runner = await this.#startLock.run(cfg.name, async () => {
      await this.#refuseBusy(cfg.name)
      // The plan again and the cluster's health are reads of their own: asked at once, judged in
      // that order (a changed plan refuses first, as when they were asked in turn).
      const health = firstUnhealthy(this.#o.agents, this.#o.probe, nodes).then((value) => ({ value }), (error: unknown) => ({ error }))
      const plan = await this.plan(cfg.name, req.change, req.actor).catch(async (err: unknown) => {
        await health
        throw err
      })
      if (plan.planHash !== req.planHash) {
        await health
        throw new CoordinatorError('CRD_PLAN_HASH_MISMATCH', `the plan of cluster ${cfg.name} changed since plan ${req.planHash.slice(0, 12)}… (now ${plan.planHash.slice(0, 12)}…): a node's files, revision or the change differ; plan again`)
      }
      const asked = await health
      if ('error' in asked) throw asked.error
      const bad = asked.value
      if (bad !== undefined) throw new CoordinatorError('CRD_CLUSTER_UNHEALTHY', `cluster ${cfg.name} is not healthy, so the rollout does not start: ${bad.message}`)
      const first = nodes[0]
      if (first !== undefined) await this.#o.probe.provision(cfg.name, first)
      const now = this.#o.clock.now()
      const rollout: Rollout = {
        id: (this.#o.newId ?? randomUUID)(),
        cluster: cfg.name,
        revision: req.change.revision,
        planHash: plan.planHash,
        change: plan.change,
        strategy: resolveStrategy(this.#o.defaults, cfg.strategy, req.strategy),
        state: 'pending',
        createdBy: req.actor,
        createdAt: now,
        updatedAt: now,
        nodes: nodes.map((n) => ({ node: n.name, state: 'pending' })),
        ...(req.expectHsm === undefined ? {} : { expectHsm: req.expectHsm })
      }
      await this.#o.store.createRollout({ rollout, sealedChange: this.#o.sealer.seal(JSON.stringify(req.change)) })
      await this.#o.store.appendAudit({
        at: now,
        actor: req.actor,
        action: 'rollout.create',
        target: rollout.id,
        planHash: plan.planHash,
        detail: { cluster: cfg.name, revision: rollout.revision, strategy: rollout.strategy, ...(req.expectHsm === undefined ? {} : { expectHsm: req.expectHsm }), nodes: plan.nodes.map((n) => ({ node: n.node, appliedRevision: n.appliedRevision, changed: n.plan.changed, restart: n.plan.restart })) }
      })
      return this.#run(rollout, req.change, nodes)
    })
    await runner.dispatch({ type: 'start', actor: req.actor })
    return runner.rollout
  }

  async pause (id: string, actor: string): Promise<Rollout> { return await this.#command(id, 'pause', actor) }
  async resume (id: string, actor: string): Promise<Rollout> { return await this.#command(id, 'resume', actor) }
  async abort (id: string, actor: string): Promise<Rollout> { return await this.#command(id, 'abort', actor) }
  async promote (id: string, actor: string): Promise<Rollout> { return await this.#command(id, 'promote', actor) }
  async rollback (id: string, actor: string): Promise<Rollout> { return await this.#command(id, 'rollback', actor) }

  async get (id: string): Promise<Rollout | undefined> {
    return this.#runners.get(id)?.rollout ?? (await this.#o.store.getRollout(id))?.rollout
  }

  async list (opts?: { cluster?: string, limit?: number }): Promise<Rollout[]> {
    return await this.#o.store.listRollouts(opts)
  }

  async events (id: string, opts?: { from?: number, limit?: number }): Promise<RolloutEvent[]> {
    return await this.#o.store.events(id, opts)
  }

  subscribe (id: string, onEvent: (e: RolloutEvent) => void): () => void {
    return this.#events.subscribe(id, onEvent)
  }

  async request (req: SlotRequest): Promise<SlotAnswer> { return await this.#slots.request(req) }
  async release (slotId: string, body: { revision: number, result: string, message?: string }): Promise<boolean> {
    return await this.#slots.release(slotId, body)
  }

  async resumeAll (): Promise<void> {
    this.#open()
    for (const stored of await this.#o.store.activeRollouts()) {
      if (this.#runners.has(stored.rollout.id)) continue
      if (this.#o.clusters.every((c) => c.name !== stored.rollout.cluster)) {
        this.#deps.log.error({ rollout: stored.rollout.id, cluster: stored.rollout.cluster }, 'an active rollout names a cluster the config no longer has; left as it is')
        continue
      }
      const runner = this.#runStored(stored)
      runner.resumed = true
      await runner.dispatch({ type: 'resumed' })
    }
  }

  async close (): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#runners.values()].map(async (r) => { await r.close() }))
    this.#runners.clear()
  }

  /** Resolves when the rollout's runner reached a terminal state (tests, the daemon's shutdown report). */
  async finished (id: string): Promise<void> { await this.#runners.get(id)?.finished }

  async #command (id: string, cmd: Command, actor: string): Promise<Rollout> {
    this.#open()
    let runner = this.#runners.get(id)
    if (runner === undefined) {
      const stored = await this.#o.store.getRollout(id)
      if (stored === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `no rollout ${id}`)
      const r = stored.rollout
      if (isTerminal(r.state) && cmd !== 'rollback') throw new CoordinatorError('CRD_ROLLOUT_STATE', `rollout ${id} is ${r.state}; it cannot ${cmd}`)
      if (isTerminal(r.state)) {
        // A finished rollout becomes active again to roll back: only when its cluster is free.
        runner = await this.#startLock.run(r.cluster, async () => {
          await this.#refuseBusy(r.cluster)
          const run = this.#runStored(stored)
          const t = await run.dispatch({ type: cmd, actor })
          if (t.refused !== undefined) throw new CoordinatorError('CRD_ROLLOUT_STATE', t.refused)
          return run
        })
        return runner.rollout
      }
      runner = this.#runStored(stored)
    }
    const t = await runner.dispatch({ type: cmd, actor })
    if (t.refused !== undefined) throw new CoordinatorError('CRD_ROLLOUT_STATE', t.refused)
    return runner.rollout
  }

  async #refuseBusy (cluster: string): Promise<void> {
    const active = (await this.#o.store.activeRollouts()).find((s) => s.rollout.cluster === cluster)
    if (active !== undefined) throw new CoordinatorError('CRD_ROLLOUT_CONFLICT', `cluster ${cluster} has an active rollout ${active.rollout.id} (${active.rollout.state}); wait for it, or pause/abort it`)
  }

  #runStored (stored: StoredRollout): RolloutRunner {
    const change = JSON.parse(this.#o.sealer.open(stored.sealedChange)) as ChangeSpec
    return this.#run(stored.rollout, change, this.#nodes(stored.rollout.cluster))
  }

  #run (rollout: Rollout, change: ChangeSpec, nodes: NodeRef[]): RolloutRunner {
    const runner = new RolloutRunner(rollout, change, nodes, this.#deps)
    this.#runners.set(rollout.id, runner)
    runner.finished.then(() => { if (this.#runners.get(rollout.id) === runner) this.#runners.delete(rollout.id) }).catch(() => {})
    return runner
  }

  #cluster (name: string): ClusterConfig {
    const c = this.#o.clusters.find((x) => x.name === name)
    if (c === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `no cluster ${name}`)
    return c
  }

  #nodes (cluster: string): NodeRef[] {
    return this.#cluster(cluster).nodes.map((n) => ({ cluster, name: n.name, agentUrl: n.agent, minkms: n.minkms }))
  }

  #open (): void {
    if (this.#closed) throw new Error('the engine is closed')
  }
}

function stagingOption (o: EngineOptions): { staging?: AgentStagingClient } {
  const staging = o.staging === undefined ? stagingClientOf(o.agents) : o.staging === false ? undefined : o.staging
  return staging === undefined ? {} : { staging }
}
