// The real AgentCore: the change applier plus status, readiness, metrics and the journal, over
// the node's real ports (composed in agent/deps.ts). The HTTP API and the CLI drive it. It also
// owns what the daemon runs in the background (startDaemon: undo an interrupted apply, watch for
// drift, converge to the desired revision) and the files-only recovery of the unit's ExecStartPre.
import type { AgentStatus, ApplyEvent, ApplyResult, Check, DriftEntry, RecoverResult, RunningCore, PlanResult, StagedChange } from './core.js'
import type { Change } from '../shared/change/change.js'
import type { ChangeApplier } from './apply/change-applier.js'
import type { GoAhead } from './convergence-slots.js'
import type { RestartPolicy } from '../shared/change/schema.js'
import type { DriftDetector } from './apply/drift-detector.js'
import type { Log } from './apply/transaction.js'
import type { AgentMetrics } from './metrics.js'
import type { Journal } from './os/journal.js'
import type { ServiceManager, UnitStatus } from './os/service-manager.js'
import type { AgentStateStore } from './state/agent-state.js'
import { errText } from '../shared/error-text.js'

export interface AgentCoreParts {
  node: string
  applier: ChangeApplier
  service: ServiceManager
  journal: Journal
  state: AgentStateStore
  metrics: AgentMetrics
  drift?: DriftDetector
  log: Log
  /** Closed last by close() (the minkms client's connections). */
  release?: () => Promise<void>
  /** Without a watching detector (CLI commands): drift computed when status asks. */
  driftNow?: () => Promise<DriftEntry[]>
}

/** Asks the coordinator for a go-ahead before boot convergence; undefined without a coordinator. */
export type GoAheadSource = (signal: AbortSignal) => Promise<GoAhead | undefined>

export class RealAgentCore implements RunningCore {
  readonly #p: AgentCoreParts
  readonly journal: Journal
  readonly unit: string
  #journalCache: { at: number, check: Check } | undefined
  /** What boot convergence is doing, shown in the config check. */
  #convergence = 'idle'
  readonly #stop = new AbortController()
  #converging: Promise<void> | undefined

  constructor (parts: AgentCoreParts) {
    this.#p = parts
    this.journal = parts.journal
    this.unit = parts.service.unit
  }

  async plan (change: Change): Promise<PlanResult> {
    return await this.#p.applier.plan(change)
  }

  async apply (change: Change, opts: { check?: boolean, onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal } = {}): Promise<ApplyResult> {
    const r = await this.#p.applier.apply(change, opts)
    await this.#refreshRevisions()
    return r
  }

  async rollback (opts: { onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal, restart?: RestartPolicy } = {}): Promise<ApplyResult> {
    const r = await this.#p.applier.rollback(opts)
    await this.#refreshRevisions()
    return r
  }

  async stage (change: Change): Promise<StagedChange> {
    return await this.#p.applier.stage(change)
  }

  async commitStaged (revision: number, opts: { onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal } = {}): Promise<ApplyResult> {
    const r = await this.#p.applier.commitStaged(revision, opts)
    await this.#refreshRevisions()
    return r
  }

  async discardStaged (): Promise<number | undefined> {
    return this.#p.applier.discardStaged()
  }

  async #refreshRevisions (): Promise<{ applied: number, desired: number }> {
    const [applied, desired] = await Promise.all([this.#p.state.readApplied(), this.#p.state.readDesired().catch(() => undefined)])
    const a = applied?.revision ?? 0
    const d = this.#p.applier.applying ?? desired?.record.revision ?? a
    this.#p.metrics.setAppliedRevision(a)
    this.#p.metrics.setDesiredRevision(d)
    return { applied: a, desired: d }
  }

  async #unit (): Promise<{ status?: UnitStatus, check: Check }> {
    try {
      const status = await this.#p.service.status()
      this.#p.metrics.setUnitState(status.activeState)
      const check = status.loadState === 'loaded'
        ? { ok: true, message: `${this.unit} is ${status.activeState}/${status.subState}` }
        : { ok: false, message: `${this.unit} is ${status.loadState}: install the unit or fix unit in the agent config` }
      return { status, check }
    } catch (err) {
      this.#p.metrics.setUnitState(undefined)
      return { check: { ok: false, message: `cannot read the state of ${this.unit}: ${errText(err)}` } }
    }
  }

  /** The journal can be read (cached for a second: /health/ready is polled). */
  async #journalCheck (): Promise<Check> {
    const now = Date.now()
    if (this.#journalCache !== undefined && now - this.#journalCache.at < 1000) return this.#journalCache.check
    const check: Check = await this.journal.tailCursor()
      .then(() => ({ ok: true, message: 'the journal answers' }), (err: unknown) => ({ ok: false, message: `cannot read the journal: ${errText(err)}` }))
    this.#journalCache = { at: now, check }
    return check
  }

  // An apply of this process is `applying`; one on disk is another process's (the daemon, while
  // `keyroll-agent status` asks) or one a killed agent left: until it is undone the node is not
  // ready for changes, and the config check says so.
  async #config (): Promise<{ check: Check, elsewhere: boolean }> {
    const loaded = `config loaded; convergence ${this.#convergence}`
    const u = this.#p.applier.applying === undefined ? await this.#p.applier.unfinished().catch(() => undefined) : undefined
    if (u === undefined) return { check: { ok: true, message: loaded }, elsewhere: false }
    const what = `${u.kind === 'apply' ? 'an apply' : 'a rollback'} of revision ${u.revision} (started ${new Date(u.since).toISOString()})`
    return u.runningIn !== undefined
      ? { check: { ok: true, message: `${loaded}; ${what} is running in process ${u.runningIn}` }, elsewhere: true }
      : { check: { ok: false, message: `${what} was interrupted: the agent finishes or undoes it when it starts (keyroll-agent recover)` }, elsewhere: false }
  }

  async #checks (): Promise<{ checks: AgentStatus['checks'], status?: UnitStatus, applyingElsewhere: boolean }> {
    const [unit, journal, config] = await Promise.all([this.#unit(), this.#journalCheck(), this.#config()])
    return {
      checks: { config: config.check, unit: unit.check, journal },
      ...(unit.status === undefined ? {} : { status: unit.status }),
      applyingElsewhere: config.elsewhere
    }
  }

  async status (): Promise<AgentStatus> {
    const [{ checks, status, applyingElsewhere }, revs, last, drift] = await Promise.all([this.#checks(), this.#refreshRevisions(), this.#p.state.readLast(), this.#drift()])
    // Only the revision and times: the staged plan's diffs are the stage answer's alone.
    const staged = this.#p.applier.staged()
    return {
      node: this.#p.node,
      unit: { name: this.unit, ...(status === undefined ? {} : { status }) },
      appliedRevision: revs.applied,
      desiredRevision: revs.desired,
      applying: this.#p.applier.applying !== undefined || applyingElsewhere,
      drift,
      ...(last === undefined ? {} : { lastResult: last }),
      ...(staged === undefined ? {} : { staged: { revision: staged.revision, stagedAt: staged.stagedAt, expiresAt: staged.expiresAt } }),
      checks
    }
  }

  async #drift (): Promise<DriftEntry[]> {
    if (this.#p.drift !== undefined) return this.#p.drift.entries()
    return await this.#p.driftNow?.() ?? []
  }

  async ready (): Promise<{ ok: boolean, checks: AgentStatus['checks'] }> {
    const { checks } = await this.#checks()
    return { ok: checks.config.ok && checks.unit.ok && checks.journal.ok, checks }
  }

  async metrics (): Promise<string> {
    await Promise.all([this.#unit(), this.#refreshRevisions()])
    return await this.#p.metrics.render()
  }

  /**
   * Files-only recovery (the unit's ExecStartPre): an interrupted apply is finished or undone on
   * disk, never with a restart (minkms is ordered after the agent, so a restart from here would
   * wait for this very start job). A restore that failed rejects: the pending record stays and
   * the daemon tries again.
   */
  async recover (): Promise<RecoverResult> {
    const r = await this.#p.applier.recover({ deferRestart: true })
    const revision = (await this.#p.state.readApplied())?.revision ?? 0
    if (r === undefined) return { action: 'none', revision, message: 'no interrupted change' }
    if (r.result === 'rollback-failed') throw new Error(r.message)
    return { action: r.result === 'changed' ? 'finished' : 'undone', revision, message: r.message }
  }

  /** Undoes (with a restart and a verdict) an apply a killed agent left, before anything else touches the files. */
  async undoInterrupted (): Promise<void> {
    const r = await this.#p.applier.recover()
    if (r !== undefined) this.#p.log.warn({ result: r.result, revision: r.revision }, r.message)
  }

  /**
   * The daemon's start: undo an interrupted apply, watch the managed files for drift, and converge
   * the node to its desired revision in the background (after the coordinator's go-ahead when one
   * is configured), so the API answers health and status meanwhile.
   */
  async startDaemon (goAhead: GoAheadSource): Promise<void> {
    await this.undoInterrupted()
    await this.#p.drift?.start((await this.#p.state.readApplied())?.files ?? {})
    const stop = this.#stop.signal
    const slot = await goAhead(stop)
    this.#convergence = slot === undefined ? 'running (no coordinator configured)' : 'waiting for the coordinator'
    this.#converging = this.#p.applier.converge(slot).then((r) => {
      this.#convergence = r.state === 'applied' ? `applied revision ${r.result.revision}: ${r.result.result}` : r.state
      this.#p.log.info({ state: r.state }, 'boot convergence done')
    }, (err: unknown) => {
      this.#convergence = stop.aborted ? 'stopped' : `failed: ${errText(err)}`
      if (!stop.aborted) this.#p.log.error({ err }, 'boot convergence failed')
    })
  }

  async close (): Promise<void> {
    this.#stop.abort()
    await this.#converging?.catch(() => {})
    await this.#p.drift?.close()
    await this.#p.release?.()
  }
}
