// In-memory HsmMigrationControl for the API's and the CLI's tests: it keeps migrations and their
// events, refuses what the orchestrator refuses at once with its codes (unknown cluster or
// migration 404; a cluster with an active migration, a steer the state forbids 409), and lets a
// test append events and move a migration on as the orchestrator would (`emit`, `update`,
// `setState`, or `onStart` to script a whole run). Every call is recorded with its actor; the
// admin key handed in is kept as the Secret it arrived as (tests check what went inward), and
// views never carry it.
import type { Secret } from '../../shared/secrets/secret.js'
import {
  TERMINAL_HSM_MIGRATION_STATES,
  type HsmMigration, type HsmMigrationEvent, type HsmMigrationStartAnswer, type HsmMigrationState
} from '../../shared/schemas/hsm-migration.js'
import { CoordinatorError } from '../../coordinator/errors.js'
import type { HsmMigrationControl, HsmMigrationStart } from '../../coordinator/ports/hsm-migration-control.js'

/** One recorded call. */
export interface MigrationCall { method: string, id?: string, cluster?: string, actor?: string, adminKey?: Secret, request?: HsmMigrationStart }

/** The API key a start with `revealApiKey` answers (shaped as minkms makes them). */
export const FAKE_API_KEY = 'k1:Fake0ApiKey0Generated0For0The0Admin0Identity0x'

export class FakeHsmMigrationControl implements HsmMigrationControl {
  readonly calls: MigrationCall[] = []
  /** Nodes per cluster. */
  readonly clusters: Map<string, string[]>
  /** What a dry run answers (default: ok, nothing to report). */
  dryRunAnswer: NonNullable<HsmMigrationStartAnswer['dryRun']> | undefined
  /** Called after a real start stored the migration, e.g. to script its run with emit/update/setState. */
  onStart: ((id: string) => void) | undefined
  /** The next `n` calls of events() reject (a store that fails mid-stream). */
  failEvents = 0
  readonly #migrations = new Map<string, HsmMigration>()
  readonly #events = new Map<string, HsmMigrationEvent[]>()
  readonly #subscribers = new Map<string, Set<(e: HsmMigrationEvent) => void>>()
  #seq = 0
  readonly #now: () => number

  constructor (clusters: Record<string, string[]> = { c1: ['node1', 'node2', 'node3'] }, opts: { now?: () => number } = {}) {
    this.clusters = new Map(Object.entries(clusters))
    this.#now = opts.now ?? Date.now
  }

  async start (req: HsmMigrationStart): Promise<HsmMigrationStartAnswer> {
    this.calls.push({ method: 'start', cluster: req.cluster, actor: req.actor, adminKey: req.adminKey, request: req })
    const nodes = this.clusters.get(req.cluster)
    if (nodes === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `no cluster ${req.cluster}`)
    if (req.dryRun) {
      return { dryRun: this.dryRunAnswer ?? { ok: true, problems: [], warnings: [], preflight: [], plans: {} } }
    }
    const active = [...this.#migrations.values()].find(m => m.cluster === req.cluster && !TERMINAL_HSM_MIGRATION_STATES.includes(m.state))
    if (active !== undefined) throw new CoordinatorError('CRD_ROLLOUT_CONFLICT', `cluster ${req.cluster} already has HSM migration ${active.id} (${active.state})`)
    const now = this.#now()
    const id = `m${++this.#seq}`
    const migration: HsmMigration = {
      id,
      cluster: req.cluster,
      external: req.external,
      enclave: req.enclave,
      key: req.key,
      keepLocalHsm: req.keepLocalHsm,
      phaseB: req.phaseB,
      replaceHsm: req.replaceHsm,
      removeLocalSealedCopy: req.removeLocalSealedCopy,
      state: 'running',
      phase: 'provision',
      createdBy: req.actor,
      createdAt: now,
      updatedAt: now,
      warnings: [],
      rollouts: {},
      nodes: nodes.map(name => ({ name, phases: { A: { state: 'pending', restarts: 0 }, ...(req.keepLocalHsm ? {} : { B: { state: 'pending', restarts: 0 } }) } }))
    }
    this.#migrations.set(id, migration)
    this.#events.set(id, [])
    this.emit(id, { type: 'migration', message: 'HSM migration started', data: { state: 'running' } })
    this.onStart?.(id)
    return { migration: this.#migrations.get(id) as HsmMigration, ...(req.revealApiKey ? { apiKey: FAKE_API_KEY } : {}) }
  }

  async pause (id: string, actor: string): Promise<HsmMigration> { return this.#steer('pause', id, actor, ['pending', 'running'], 'paused') }
  /** The options of each resume, in order (a phase B mode switch). */
  readonly resumeOptions: Array<{ phaseB?: string, allowWriteOutage?: boolean }> = []

  async resume (id: string, actor: string, opts: { phaseB?: 'rolling' | 'all-at-once', allowWriteOutage?: boolean } = {}): Promise<HsmMigration> {
    this.resumeOptions.push(opts)
    return this.#steer('resume', id, actor, ['paused', 'failed'], 'running')
  }

  async abort (id: string, actor: string): Promise<HsmMigration> { return this.#steer('abort', id, actor, ['pending', 'running', 'paused'], 'aborted') }

  async get (id: string): Promise<HsmMigration | undefined> {
    return this.#migrations.get(id)
  }

  async list (opts: { cluster?: string, limit?: number } = {}): Promise<HsmMigration[]> {
    this.calls.push({ method: 'list', ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }) })
    return [...this.#migrations.values()].reverse().filter(m => opts.cluster === undefined || m.cluster === opts.cluster).slice(0, opts.limit ?? 1000)
  }

  async events (id: string, opts: { from?: number, limit?: number } = {}): Promise<HsmMigrationEvent[]> {
    if (this.failEvents > 0) {
      this.failEvents--
      throw new Error('the store is busy')
    }
    return (this.#events.get(id) ?? []).slice(opts.from ?? 0, (opts.from ?? 0) + (opts.limit ?? 1000))
  }

  subscribe (id: string, onEvent: (e: HsmMigrationEvent) => void): () => void {
    const set = this.#subscribers.get(id) ?? new Set()
    this.#subscribers.set(id, set)
    set.add(onEvent)
    return () => { set.delete(onEvent) }
  }

  /** Subscribers of a migration now (a stream that ended must have unsubscribed). */
  subscribers (id: string): number {
    return this.#subscribers.get(id)?.size ?? 0
  }

  /** Appends an event as the orchestrator would (stored first, then told to subscribers unless `notify` is false). */
  emit (id: string, e: Omit<HsmMigrationEvent, 'index' | 'at'> & { at?: number }, opts: { notify?: boolean } = {}): HsmMigrationEvent {
    const list = this.#events.get(id)
    if (list === undefined) throw new Error(`no migration ${id}`)
    const event: HsmMigrationEvent = { ...e, index: list.length, at: e.at ?? this.#now() }
    list.push(event)
    if (opts.notify !== false) for (const s of this.#subscribers.get(id) ?? []) s(event)
    return event
  }

  /** Changes a migration's view (nodes, phase, provision …) without an event. */
  update (id: string, patch: Partial<HsmMigration> | ((m: HsmMigration) => HsmMigration)): HsmMigration {
    const m = this.#migrations.get(id)
    if (m === undefined) throw new Error(`no migration ${id}`)
    const next = typeof patch === 'function' ? patch(m) : { ...m, ...patch }
    this.#migrations.set(id, { ...next, updatedAt: this.#now() })
    return this.#migrations.get(id) as HsmMigration
  }

  /** Sets a migration's state (finishedAt when terminal) and appends its `migration` event. */
  setState (id: string, state: HsmMigrationState, message?: string): HsmMigration {
    const terminal = TERMINAL_HSM_MIGRATION_STATES.includes(state)
    const m = this.update(id, m => ({ ...m, state, ...(terminal ? { finishedAt: this.#now() } : {}), ...(message === undefined ? {} : { message }) }))
    this.emit(id, { type: 'migration', message: message ?? `HSM migration ${state}`, data: { state } })
    return m
  }

  #steer (method: string, id: string, actor: string, from: readonly HsmMigrationState[], to: HsmMigrationState): HsmMigration {
    this.calls.push({ method, id, actor })
    const m = this.#migrations.get(id)
    if (m === undefined) throw new CoordinatorError('CRD_NOT_FOUND', `no HSM migration ${id}`)
    if (!from.includes(m.state)) throw new CoordinatorError('CRD_ROLLOUT_STATE', `HSM migration ${id} is ${m.state}; cannot ${method} it`)
    return this.setState(id, to)
  }
}
