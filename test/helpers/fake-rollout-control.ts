// In-memory RolloutControl and SlotControl for the API's tests: they keep rollouts and events,
// refuse what the engine refuses with the engine's codes (unknown cluster or rollout 404; busy
// cluster, plan hash mismatch, unhealthy node, wrong state 409), and let a test append events and
// change states as the engine would (`emit`, `setState`). Every call is recorded with its actor.
// Secrets: the wire change handed in is kept (tests check what went inward) but views show it
// redacted, as the engine's do.
import { createHash } from 'node:crypto'
import { parseDuration } from '../../shared/change/duration.js'
import { redactChange } from '../../shared/change/redact-change.js'
import type { ChangeSpec } from '../../shared/change/schema.js'
import { validateChange } from '../../shared/change/validate-change.js'
import {
  ROLLOUT_STRATEGY_DEFAULTS, TERMINAL_ROLLOUT_STATES,
  type ClusterPlan, type Rollout, type RolloutEvent, type RolloutState, type Strategy
} from '../../shared/schemas/rollout.js'
import { CoordinatorError } from '../../coordinator/errors.js'
import type { RolloutControl, SlotAnswer, SlotControl, SlotRequest, StartRequest } from '../../coordinator/ports/rollout-control.js'

/** One recorded call. */
export interface ControlCall { method: string, id?: string, cluster?: string, actor?: string, change?: ChangeSpec }

export class FakeRolloutControl implements RolloutControl {
  readonly calls: ControlCall[] = []
  /** Nodes per cluster (the plan lists them). */
  readonly clusters: Map<string, string[]>
  /** When set, start() refuses with CRD_CLUSTER_UNHEALTHY naming this node. */
  unhealthyNode: string | undefined
  readonly #rollouts = new Map<string, Rollout>()
  readonly #events = new Map<string, RolloutEvent[]>()
  readonly #subscribers = new Map<string, Set<(e: RolloutEvent) => void>>()
  #seq = 0
  #now: () => number

  constructor (clusters: Record<string, string[]> = { c1: ['node1', 'node2', 'node3'] }, opts: { now?: () => number } = {}) {
    this.clusters = new Map(Object.entries(clusters))
    this.#now = opts.now ?? Date.now
  }

  /** The hash plan() gives for this cluster and change. */
  planHash (cluster: string, change: ChangeSpec): string {
    return createHash('sha256').update(JSON.stringify([cluster, change])).digest('hex')
  }

  async plan (cluster: string, change: ChangeSpec, actor: string): Promise<ClusterPlan> {
    this.calls.push({ method: 'plan', cluster, actor, change })
    const nodes = this.#nodes(cluster)
    const view = redactChange(validateChange(change))
    return {
      cluster,
      revision: change.revision,
      planHash: this.planHash(cluster, change),
      change: view,
      nodes: nodes.map(node => ({ node, appliedRevision: 0, plan: { revision: change.revision, changed: true, restart: true, files: [] } }))
    }
  }

  async start (req: StartRequest): Promise<Rollout> {
    this.calls.push({ method: 'start', cluster: req.cluster, actor: req.actor, change: req.change })
    const nodes = this.#nodes(req.cluster)
    if (req.planHash !== this.planHash(req.cluster, req.change)) throw new CoordinatorError('CRD_PLAN_HASH_MISMATCH', 'the plan hash given does not match the plan computed now; plan again')
    if (this.unhealthyNode !== undefined) throw new CoordinatorError('CRD_CLUSTER_UNHEALTHY', `node ${this.unhealthyNode} is not healthy: minkms not ready`)
    const active = [...this.#rollouts.values()].find(r => r.cluster === req.cluster && !TERMINAL_ROLLOUT_STATES.includes(r.state))
    if (active !== undefined) throw new CoordinatorError('CRD_ROLLOUT_CONFLICT', `cluster ${req.cluster} already has rollout ${active.id} (${active.state})`)
    const now = this.#now()
    const id = `r${++this.#seq}`
    const rollout: Rollout = {
      id,
      cluster: req.cluster,
      revision: req.change.revision,
      planHash: req.planHash,
      change: redactChange(validateChange(req.change)),
      strategy: resolve(req.strategy),
      state: 'running',
      createdBy: req.actor,
      createdAt: now,
      updatedAt: now,
      nodes: nodes.map(node => ({ node, state: 'pending' }))
    }
    this.#rollouts.set(id, rollout)
    this.#events.set(id, [])
    this.emit(id, { type: 'rollout', message: 'rollout started', data: { state: 'running' } })
    return rollout
  }

  async pause (id: string, actor: string): Promise<Rollout> { return this.#steer('pause', id, actor, ['running'], 'paused') }
  async resume (id: string, actor: string): Promise<Rollout> { return this.#steer('resume', id, actor, ['paused'], 'running') }
  async abort (id: string, actor: string): Promise<Rollout> { return this.#steer('abort', id, actor, ['pending', 'running', 'paused', 'awaiting-promotion'], 'aborted') }
  async promote (id: string, actor: string): Promise<Rollout> { return this.#steer('promote', id, actor, ['awaiting-promotion'], 'running') }
  async rollback (id: string, actor: string): Promise<Rollout> { return this.#steer('rollback', id, actor, ['succeeded', 'failed', 'aborted'], 'reverting') }

  async get (id: string): Promise<Rollout | undefined> {
    return this.#rollouts.get(id)
  }

  async list (opts: { cluster?: string, limit?: number } = {}): Promise<Rollout[]> {
    return [...this.#rollouts.values()].reverse().filter(r => opts.cluster === undefined || r.cluster === opts.cluster).slice(0, opts.limit ?? 1000)
  }

  async events (id: string, opts: { from?: number, limit?: number } = {}): Promise<RolloutEvent[]> {
    return (this.#events.get(id) ?? []).slice(opts.from ?? 0, (opts.from ?? 0) + (opts.limit ?? 1000))
  }

  subscribe (id: string, onEvent: (e: RolloutEvent) => void): () => void {
    const set = this.#subscribers.get(id) ?? new Set()
    this.#subscribers.set(id, set)
    set.add(onEvent)
    return () => { set.delete(onEvent) }
  }

  /** Subscribers of a rollout now (a stream that ended must have unsubscribed). */
  subscribers (id: string): number {
    return this.#subscribers.get(id)?.size ?? 0
  }

  /** Appends an event as the engine would (stored first, then told to subscribers unless `notify` is false). */
  emit (id: string, e: Omit<RolloutEvent, 'index' | 'at'> & { at?: number }, opts: { notify?: boolean } = {}): RolloutEvent {
    const list = this.#events.get(id)
    if (list === undefined) throw new Error(`no rollout ${id}`)
    const event: RolloutEvent = { index: list.length, at: e.at ?? this.#now(), type: e.type, message: e.message, ...(e.node === undefined ? {} : { node: e.node }), ...(e.data === undefined ? {} : { data: e.data }) }
    list.push(event)
    if (opts.notify !== false) for (const s of this.#subscribers.get(id) ?? []) s(event)
    return event
  }

  /** Sets a rollout's state and appends its `rollout` event (`eventFirst`: the event before the state). */
  setState (id: string, state: RolloutState, opts: { eventFirst?: boolean, silent?: boolean } = {}): void {
    const r = this.#rollouts.get(id)
    if (r === undefined) throw new Error(`no rollout ${id}`)
    const save = (): void => { this.#rollouts.set(id, { ...r, state, updatedAt: this.#now() }) }
    if (opts.silent === true) { save(); return }
    if (opts.eventFirst === true) {
      this.emit(id, { type: 'rollout', message: `rollout ${state}`, data: { state } })
      save()
    } else {
      save()
      this.emit(id, { type: 'rollout', message: `rollout ${state}`, data: { state } })
    }
  }

  #nodes (cluster: string): string[] {
    const nodes = this.clusters.get(cluster)
    if (nodes === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `no cluster ${cluster}`)
    return nodes
  }

  #steer (method: string, id: string, actor: string, from: readonly RolloutState[], to: RolloutState): Rollout {
    this.calls.push({ method, id, actor })
    const r = this.#rollouts.get(id)
    if (r === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `no rollout ${id}`)
    if (!from.includes(r.state)) throw new CoordinatorError('CRD_ROLLOUT_STATE', `rollout ${id} is ${r.state}; cannot ${method} it`)
    this.setState(id, to)
    return this.#rollouts.get(id) as Rollout
  }
}

function resolve (s: Strategy = {}): Rollout['strategy'] {
  const d = ROLLOUT_STRATEGY_DEFAULTS
  const ms = (v: string | undefined, dflt: string): number => parseDuration(v ?? dflt) ?? 0
  return {
    maxParallel: s.maxParallel ?? d.maxParallel,
    canary: s.canary ?? d.canary,
    healthyDeadlineMs: ms(s.healthyDeadline, d.healthyDeadline),
    progressDeadlineMs: ms(s.progressDeadline, d.progressDeadline),
    minHealthyTimeMs: ms(s.minHealthyTime, d.minHealthyTime),
    failureBudget: s.failureBudget ?? d.failureBudget,
    autoRevert: s.autoRevert ?? d.autoRevert,
    onUnhealthy: s.onUnhealthy ?? d.onUnhealthy
  }
}

/** Boot slots in memory: one open slot per cluster at a time (clusters from node names). */
export class FakeSlotControl implements SlotControl {
  readonly calls: Array<{ method: string, slotId?: string, node?: string }> = []
  /** When set, request() answers 409 with this message. */
  busy: string | undefined
  readonly #open = new Map<string, string>()
  #seq = 0

  async request (req: SlotRequest): Promise<SlotAnswer> {
    this.calls.push({ method: 'request', node: req.node })
    if (this.busy !== undefined) return { granted: false, retryAfterMs: 5000, message: this.busy }
    const slotId = `s${++this.#seq}`
    this.#open.set(slotId, req.node)
    return { granted: true, slotId, ttlMs: 120_000 }
  }

  async release (slotId: string, body: { revision: number, result: string, message?: string, node?: string }): Promise<boolean> {
    this.calls.push({ method: 'release', slotId, ...(body.node === undefined ? {} : { node: body.node }) })
    const holder = this.#open.get(slotId)
    if (holder === undefined || (body.node !== undefined && holder !== body.node)) return false
    this.#open.delete(slotId)
    return true
  }
}
