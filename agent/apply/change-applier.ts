// The node's change applier: validates and plans a change, applies it as a transaction under the
// node's apply lock, rolls back to the previous revision on request, undoes an apply a killed
// agent left behind, and converges the node to its desired revision at start.
import type { ChangePlan } from '../../shared/change/plan.js'
import { relative } from 'node:path'
import { toChangeSpec, type Change } from '../../shared/change/change.js'
import { traceToSpec } from '../../shared/change/trace-problems.js'
import { validateChange } from '../../shared/change/validate-change.js'
import type { Problem } from '../../shared/edit/problem.js'
import type { ApplyEvent, ApplyResult, ApplyStep, FilePlan, PlanResult } from '../core.js'
import type { FileSnapshot } from '../os/file-store.js'
import { contentSha, sha256, type AppliedRecord, type PendingRecord } from '../state/agent-state.js'
import { ChangeConflictError, FileNotUtf8Error, InvalidResultError, NotStagedError, NothingToRollBackError, RevisionConflictError, StagedStaleError, StaleRevisionError } from '../errors.js'
import type { StagedChange } from '../../shared/schemas/staged.js'
import { DEFAULT_STAGED_TTL_MS, StagedSlot, stagedView, type Staged } from './staged-change.js'
import type { ApplyLock } from './apply-lock.js'
import type { RestartPolicy } from '../../shared/change/schema.js'
import { planFileMode, type FileModePlan } from './file-exposure.js'
import { InlinePlanner, type Planner } from './planner.js'
import { restoreFromPending, runTransaction, type TxDeps, type TxFile, type TxOutcome } from './transaction.js'
import { assertUnitRestartable } from './unit-precheck.js'

/** The managed files: logical name → path (the allowlist). */
export interface ManagedFiles { config: string, env: string }
const NAMES = ['config', 'env'] as const

/** Reports one step of a transaction. */
type Emit = (step: ApplyStep, status: ApplyEvent['status'], message?: string) => void

/** An applied revision and the hash of its change. */
export interface ChangeHash { revision: number, changeHash: string }

/** A change planned under the lock: what its transaction and commit need (#run). */
export interface PlannedChange {
  changeHash: string
  view: PlanResult
  restart: boolean
  /** The files the transaction changes, with their snapshots as planned. */
  files: TxFile[]
}

/** Mode plans of the files a change edits. */
type Modes = Partial<Record<typeof NAMES[number], FileModePlan>>

/** Told about results and the applying flag (metrics). */
export interface ApplyObserver {
  result? (r: ApplyResult, ms: number): void
  applying? (on: boolean): void
}

export interface ApplierDeps extends TxDeps {
  lock: ApplyLock
  observer?: ApplyObserver
  /** Where plans are computed (the daemon: a worker thread); default this thread. */
  planner?: Planner
}

export interface ApplierOptions {
  files: ManagedFiles
  /** Key of the `***<fingerprint>` masks in diffs. */
  fingerprintKey: Uint8Array
  /** Backup sets (and stored changes) to keep. */
  keep: number
  /** Verification window for rollbacks and recovery (changes carry their own). */
  verify: { deadlineMs: number, stableForMs: number }
  /** How long a staged change waits for its commit, ms (default DEFAULT_STAGED_TTL_MS, 10 minutes). */
  stagedTtlMs?: number
}

export interface ApplyOptions { check?: boolean, onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal }

/** Options of a rollback. */
export interface RollbackOptions extends ApplyOptions {
  /**
   * Overrides the restart policy. By default a rollback follows the policy the rolled-back change
   * was applied with: `never` restores the files without restarting the unit, `on-change`
   * restarts when a file was restored, `always` restarts in any case.
   */
  restart?: RestartPolicy
}

export class ChangeApplier {
  readonly #deps: ApplierDeps
  readonly #opts: ApplierOptions
  readonly #planner: Planner
  #inFlight: number | undefined
  /** The staged change: memory only (staged-change.ts says why). */
  readonly #staged = new StagedSlot()

  constructor (deps: ApplierDeps, opts: ApplierOptions) {
    this.#deps = deps
    this.#opts = opts
    this.#planner = deps.planner ?? new InlinePlanner()
  }

  /** Revision being applied right now, if any. */
  get applying (): number | undefined { return this.#inFlight }

  /**
   * An apply or rollback recorded on disk (pending.json) but not finished: still running in
   * process `runningIn` (this one or another, e.g. the daemon while a CLI asks), or interrupted.
   */
  async unfinished (): Promise<{ kind: 'apply' | 'rollback', revision: number, since: number, runningIn?: number } | undefined> {
    const pending = await this.#deps.state.readPending()
    if (pending === undefined) return undefined
    const holder = await this.#deps.lock.holder()
    return { kind: pending.kind, revision: pending.revision, since: pending.startedAt, ...(holder === undefined ? {} : { runningIn: holder }) }
  }

  async #read (): Promise<Record<typeof NAMES[number], FileSnapshot>> {
    const [config, env] = await Promise.all(NAMES.map(async (n) => await this.#deps.store.read(this.#opts.files[n])))
    return { config: config!, env: env! }
  }

  /** Plans `change` against the files as they are now; invalid resulting files → 400. */
  async #plan (change: Change): Promise<{ plan: ChangePlan, current: Record<typeof NAMES[number], FileSnapshot> }> {
    const current = await this.#read()
    for (const n of NAMES) {
      const bad = current[n].invalidUtf8
      if (bad !== undefined && change.files[n] !== undefined) throw new FileNotUtf8Error(this.#opts.files[n], bad.line)
    }
    const plan = await this.#planner.plan({ config: current.config.content, env: current.env.content }, change, {
      fingerprintKey: this.#opts.fingerprintKey,
      labels: { config: this.#opts.files.config, env: this.#opts.files.env }
    })
    if (!plan.ok) {
      // A problem the change caused names the spec's field and line; any other, the file's.
      const problems: Problem[] = NAMES.flatMap((n) => (plan.files[n]?.problems ?? []).map((p) =>
        traceToSpec(change, n, p) ?? { ...p, path: `${this.#opts.files[n]}${p.path === '' ? '' : ` ${p.path}`}` }))
      throw new InvalidResultError(problems)
    }
    return { plan, current }
  }

  #view (plan: ChangePlan, modes: Modes = {}): PlanResult {
    const files: FilePlan[] = NAMES.flatMap((n) => {
      const f = plan.files[n]
      const m = modes[n]
      if (f === undefined) return []
      const view: FilePlan = { name: n, path: this.#opts.files[n], changed: f.changed || m?.changed === true, diff: f.diff }
      // The planner's own findings (env lines systemd ignores, a commented-out HSM key) were
      // computed and dropped here; the operator sees them like the file-mode warning.
      const warnings = [...f.warnings.map((w) => w.message), ...(m?.warning === undefined ? [] : [m.warning])]
      if (warnings.length > 0) view.warnings = warnings
      return [view]
    })
    return { revision: plan.revision, changed: files.some((f) => f.changed), restart: plan.restart, files }
  }

  #modes (change: Change, plan: ChangePlan, current: Record<typeof NAMES[number], FileSnapshot>): Modes {
    const out: Modes = {}
    for (const n of NAMES) {
      const m = planFileMode(n, this.#opts.files[n], change, plan, current[n])
      if (m !== undefined) out[n] = m
    }
    return out
  }

  /** Plans a validated change against the files as they are; writes nothing. */
  async plan (change: Change): Promise<PlanResult> {
    const { plan, current } = await this.#plan(change)
    return this.#view(plan, this.#modes(change, plan, current))
  }

  /** Runs `fn` under the apply lock, reporting the result to the observer and last.json. */
  async #locked (revision: number, onEvent: ApplyOptions['onEvent'], fn: (emit: Emit) => Promise<ApplyResult>): Promise<ApplyResult> {
    const { clock, lock, observer, state, log } = this.#deps
    const emit = (step: ApplyStep, status: ApplyEvent['status'], message?: string): void => {
      const e: ApplyEvent = { step, status, at: clock.now(), ...(message === undefined ? {} : { message }) }
      log.info({ revision, step, status }, 'apply step')
      onEvent?.(e)
    }
    if (this.#inFlight !== undefined) throw new ChangeConflictError(`revision ${this.#inFlight}`)
    await lock.acquire()
    const started = clock.monotonic()
    this.#inFlight = revision
    observer?.applying?.(true)
    try {
      emit('lock', 'done')
      const r = await fn(emit)
      const { plan: _plan, ...rest } = r
      await state.writeLast({ ...rest, at: clock.now() })
      observer?.result?.(r, clock.monotonic() - started)
      log.info({ revision: r.revision, result: r.result, failedStep: r.failedStep }, r.message)
      return r
    } finally {
      this.#inFlight = undefined
      observer?.applying?.(false)
      await lock.release()
    }
  }

  #result (revision: number, plan: PlanResult, out: TxOutcome, changed: boolean): ApplyResult {
    return { ...out, revision, changed, plan }
  }

  /** Applies a validated change (see AgentCore.apply). */
  async apply (change: Change, opts: ApplyOptions = {}): Promise<ApplyResult> {
    const first = await this.#plan(change)
    if (opts.check === true) {
      const view = this.#view(first.plan, this.#modes(change, first.plan, first.current))
      return {
        result: view.changed ? 'changed' : 'ok',
        revision: change.revision,
        changed: view.changed,
        restarted: false,
        message: `check mode: revision ${change.revision} would ${view.changed ? `change ${view.files.filter((f) => f.changed).map((f) => f.path).join(', ')}` : 'change nothing'}; nothing written`,
        plan: view
      }
    }
    if (first.plan.restart) await assertUnitRestartable(this.#deps.service)
    return await this.#locked(change.revision, opts.onEvent, async (emit) => {
      const applied = await this.#deps.state.readApplied()
      const changeHash = this.#admit(change, applied)
      emit('plan', 'started')
      // Planned again under the lock: the files may have changed since the first plan.
      const { planned } = await this.#planLocked(change, changeHash)
      emit('plan', 'done', planMessage(planned.view))
      emit('validate', 'done')
      return await this.#run(change, planned, applied, emit, opts.signal)
    })
  }

  /** The revision rules of an apply (and a stage): stale → 409, same revision other content → 409. Answers the change's hash. */
  #admit (change: Change, applied: AppliedRecord | undefined): string {
    const changeHash = sha256(JSON.stringify(toChangeSpec(change)))
    if (applied !== undefined && change.revision < applied.revision) throw new StaleRevisionError(change.revision, applied.revision)
    if (applied !== undefined && change.revision === applied.revision && changeHash !== applied.changeHash) throw new RevisionConflictError(change.revision)
    return changeHash
  }

  /** Plans under the lock: the view (warnings logged), and the files the transaction would change. */
  async #planLocked (change: Change, changeHash: string): Promise<{ planned: PlannedChange, current: Record<typeof NAMES[number], FileSnapshot> }> {
    const { plan, current } = await this.#plan(change)
    const modes = this.#modes(change, plan, current)
    const view = this.#view(plan, modes)
    for (const f of view.files) for (const w of f.warnings ?? []) this.#deps.log.warn({ revision: change.revision, file: f.path }, w)
    const files: TxFile[] = NAMES.flatMap((n) => {
      const f = plan.files[n]
      const meta = modes[n]?.meta
      return f?.changed === true || modes[n]?.changed === true ? [{ name: n, path: this.#opts.files[n], old: current[n], next: { content: f?.newText, ...(meta === undefined ? {} : { meta }) } }] : []
    })
    return { planned: { changeHash, view, restart: plan.restart, files }, current }
  }

  /**
   * The transaction and the commit of a change planned under the lock (an apply's, or a staged
   * one's at its commit): what runs after `validate`, the same for both, so a staged change
   * commits with exactly the apply's semantics. Under the apply lock only.
   */
  async #run (change: Change, planned: PlannedChange, applied: AppliedRecord | undefined, emit: Emit, signal: AbortSignal | undefined): Promise<ApplyResult> {
    const { state, clock } = this.#deps
    const { changeHash, view, files } = planned

    // The commit. applied.json (with the transaction id) is the commit point: its rename, made
    // durable by the fsync of the directory, is the one step that says revision N was committed;
    // every record before it is inert until then, every one after it follows from it. Each
    // record is an atomicWrite (temporary file, fsync, rename, fsync of the directory), so a kill
    // leaves a record old or new, never torn, and a power loss keeps the renames in order.
    // Where a kill (SIGKILL of the agent or of the whole unit) can land, and what recovery does:
    //  - before or while changes/N.sealed is written (temporary file, before or after its fsync):
    //    pending.json says the files may be new, applied.json is old: recovery restores the
    //    backup and removes the temporary file;
    //  - after changes/N.sealed is renamed, before or while applied.json is written: the same,
    //    and changes/N.sealed, a revision that was never committed, is removed (neither
    //    restored, nor reported, nor converged to), as is the backup set of the undone apply;
    //  - after applied.json is renamed: committed. applied.txId = pending.txId, so recovery
    //    keeps the files and clears pending.json;
    //  - before or while desired.json is written, during the pruning, before pending.json is
    //    removed, or while last.json is written: committed as above; recovery makes desired.json
    //    follow applied.json and finishes the pruning (last.json keeps the previous result; the
    //    temporary files are removed).
    // desired.json used to be written before applied.json: a kill between them left it naming
    // the undone revision, and boot convergence then applied that revision, which the client
    // had seen fail, by itself. Without a transaction (nothing to write), the same order holds
    // and there is no pending.json: recovery only tidies desired.json and changes/.
    const commit = async (txId?: string): Promise<void> => {
      const now = await this.#read()
      const previous = applied === undefined || applied.revision === change.revision
        ? applied?.previous ?? []
        : [...applied.previous, { revision: applied.revision, changeHash: applied.changeHash }].slice(-this.#opts.keep)
      await state.writeChange(change.revision, toChangeSpec(change))
      const record: AppliedRecord = { revision: change.revision, changeHash, previous, files: { config: contentSha(now.config.content), env: contentSha(now.env.content) }, at: clock.now(), ...(txId === undefined ? {} : { txId }) }
      await state.writeApplied(record)
      await state.followApplied(record, clock.now())
      await this.#prune(change.revision, previous)
    }

    if (!view.changed && change.restart !== 'always') {
      if (applied?.revision !== change.revision || applied.changeHash !== changeHash) await commit()
      emit('write', 'skipped', 'nothing to change')
      emit('restart', 'skipped', 'nothing changed')
      return { result: 'ok', revision: change.revision, changed: false, restarted: false, message: `revision ${change.revision}: files already as the change wants; nothing written, nothing restarted`, plan: view }
    }
    // backups/N is what a rollback of revision N restores: the files as they were before N. A
    // re-apply of the committed revision (boot convergence after drift, or the same change sent
    // again) must not overwrite it with the drifted files, so its transaction keeps the files it
    // replaces in a set of its own (reapply-N), dropped once committed; undone, recovery drops it
    // as an uncommitted set. Either set starts fresh: one left by an attempt that was never
    // committed must not mix with this one (a restore puts back every file of the set).
    const reapply = applied?.revision === change.revision
    const backupKey = reapply ? `reapply-${change.revision}` : String(change.revision)
    await state.removeBackupSet(backupKey)
    const commitReapply = async (txId?: string): Promise<void> => {
      await commit(txId)
      await state.removeBackupSet(backupKey)
    }
    const out = await runTransaction(this.#deps, {
      kind: 'apply',
      revision: change.revision,
      changeHash,
      fromRevision: applied?.revision ?? 0,
      backupKey,
      files,
      restart: planned.restart,
      verify: change.verify,
      ...(signal === undefined ? {} : { signal })
    }, emit, reapply ? commitReapply : commit)
    return this.#result(change.revision, view, out, view.changed)
  }

  /**
   * Stages a validated change (see AgentCore.stage): the apply's revision rules, plan and unit
   * precheck under the apply lock, then keeps what the transaction needs in memory
   * (staged-change.ts), replacing any change staged before. Writes nothing.
   */
  async stage (change: Change): Promise<StagedChange> {
    const { clock, lock, log, state } = this.#deps
    if (this.#inFlight !== undefined) throw new ChangeConflictError(`revision ${this.#inFlight}`)
    await lock.acquire()
    try {
      const applied = await state.readApplied()
      const changeHash = this.#admit(change, applied)
      const { planned, current } = await this.#planLocked(change, changeHash)
      if (planned.restart) await assertUnitRestartable(this.#deps.service)
      const now = clock.now()
      const ttl = this.#opts.stagedTtlMs ?? DEFAULT_STAGED_TTL_MS
      const staged: Staged = {
        change,
        planned,
        applied: applied === undefined ? undefined : { revision: applied.revision, changeHash: applied.changeHash },
        base: NAMES.map((n) => ({ name: n, path: this.#opts.files[n], sha: contentSha(current[n].content), meta: current[n].meta })),
        stagedAt: now,
        expiresAt: now + ttl
      }
      const replaced = this.#staged.current(now)?.change.revision
      this.#staged.put(staged, ttl)
      log.info({ revision: change.revision, expiresAt: staged.expiresAt, ...(replaced === undefined ? {} : { replaced }) }, `revision ${change.revision} staged: ${planMessage(planned.view)}`)
      return stagedView(staged)
    } finally {
      await lock.release()
    }
  }

  /** The staged change's wire view, if one is staged and not expired (GET /v1/status). */
  staged (): StagedChange | undefined {
    const s = this.#staged.current(this.#deps.clock.now())
    return s === undefined ? undefined : stagedView(s)
  }

  /** Drops the staged change; answers its revision, or undefined when nothing was staged. */
  discardStaged (): number | undefined {
    const s = this.#staged.current(this.#deps.clock.now()) === undefined ? undefined : this.#staged.take()
    if (s !== undefined) this.#deps.log.info({ revision: s.change.revision }, `staged revision ${s.change.revision} discarded`)
    return s?.change.revision
  }

  /**
   * Commits the staged change of `revision` (see AgentCore.commitStaged): under the lock, refused
   * when it is not staged (AGT_NOT_STAGED) or was planned on other files or another applied
   * revision (AGT_STAGED_STALE; dropped); otherwise consumed and run as the apply's transaction
   * and commit (#run), without planning again.
   */
  async commitStaged (revision: number, opts: Omit<ApplyOptions, 'check'> = {}): Promise<ApplyResult> {
    return await this.#locked(revision, opts.onEvent, async (emit) => {
      const { state, clock } = this.#deps
      const s = this.#staged.current(clock.now())
      if (s?.change.revision !== revision) throw new NotStagedError(revision, s?.change.revision)
      this.#staged.take()
      const [applied, current] = await Promise.all([state.readApplied(), this.#read()])
      const moved = whatMoved(s, applied, current)
      if (moved !== undefined) throw new StagedStaleError(revision, moved)
      emit('plan', 'done', `staged ${new Date(s.stagedAt).toISOString()}: ${planMessage(s.planned.view)}`)
      emit('validate', 'done')
      // The old snapshots as read now: the same content and mode as planned (just checked).
      const files = s.planned.files.map((f) => ({ ...f, old: current[f.name as typeof NAMES[number]] }))
      return await this.#run(s.change, { ...s.planned, files }, applied, emit, opts.signal)
    })
  }

  async #prune (revision: number, previous: AppliedRecord['previous']): Promise<void> {
    const keepRevs = [revision, ...previous.map((p) => p.revision)]
    await this.#deps.state.pruneBackups(this.#opts.keep, keepRevs.map(String))
    await this.#deps.state.pruneChanges(keepRevs)
  }

  /** Restores the files as they were before the applied revision, restarts and verifies. */
  async rollback (opts: RollbackOptions = {}): Promise<ApplyResult> {
    const applied = await this.#deps.state.readApplied()
    const prev = applied?.previous.at(-1)
    if (applied === undefined || prev === undefined) throw new NothingToRollBackError()
    const names = await this.#deps.state.backupNames(String(applied.revision))
    const policy = opts.restart ?? restartPolicyOf(await this.#deps.state.readChange(applied.revision))
    return await this.#locked(prev.revision, opts.onEvent, async (emit) => {
      const { state, clock } = this.#deps
      const current = await this.#read()
      const files: TxFile[] = []
      for (const n of NAMES) {
        if (!names.includes(n)) continue
        const b = await state.readBackup(String(applied.revision), n)
        if (b.content === current[n].content) continue
        files.push({ name: n, path: this.#opts.files[n], old: current[n], next: { content: b.content, ...(b.meta === undefined ? {} : { meta: b.meta }) } })
      }
      const restart = policy === 'always' || (policy === 'on-change' && files.length > 0)
      const plan: PlanResult = { revision: prev.revision, changed: files.length > 0, restart, files: files.map((f) => ({ name: f.name, path: f.path, changed: true, diff: '' })) }
      emit('plan', 'done', `back to revision ${prev.revision} (restart policy ${policy}${opts.restart === undefined ? `, as revision ${applied.revision} was applied` : ', asked for'})`)
      // Commit point and kill points as for an apply: applied.json first, desired.json follows it.
      const commit = async (txId: string): Promise<void> => {
        const now = await this.#read()
        const record: AppliedRecord = { revision: prev.revision, changeHash: prev.changeHash, previous: applied.previous.slice(0, -1), files: { config: contentSha(now.config.content), env: contentSha(now.env.content) }, at: clock.now(), txId }
        await state.writeApplied(record)
        await state.followApplied(record, clock.now())
      }
      await state.removeBackupSet(`rollback-${applied.revision}`)
      const out = await runTransaction(this.#deps, {
        kind: 'rollback',
        revision: prev.revision,
        changeHash: prev.changeHash,
        fromRevision: applied.revision,
        backupKey: `rollback-${applied.revision}`,
        files,
        restart,
        verify: this.#opts.verify,
        ...(opts.signal === undefined ? {} : { signal: opts.signal })
      }, emit, commit)
      return this.#result(prev.revision, plan, out, files.length > 0)
    })
  }

  /**
   * Undoes an apply a killed agent left behind (pending.json), before anything else runs.
   * Returns undefined when there was none. `deferRestart`: files only, never a restart (the
   * unit's ExecStartPre; see restoreFromPending).
   */
  async recover (opts: ApplyOptions & { deferRestart?: boolean } = {}): Promise<ApplyResult | undefined> {
    const pending = await this.#deps.state.readPending()
    if (pending === undefined) {
      await this.#removeLeftovers(false)
      return undefined
    }
    return await this.#locked(pending.revision, opts.onEvent, async (emit) => {
      await this.#removeLeftovers(true, false)
      const out = await restoreFromPending(this.#deps, pending, this.#opts.verify, emit, { deferRestart: opts.deferRestart === true })
      // The backup set of an undone transaction stays while its record does (a restore still to
      // finish reads it), unless it is a committed revision's own.
      const undone = out.result === 'rolled-back' && await this.#deps.state.readPending() === undefined ? pending : undefined
      const dropped = await this.#dropUncommitted(undone)
      // The result names the revision the interrupted transaction was for, as an apply's or a
      // rollback's own result would (a failed apply of N says N, rolled-back). A caller that lost
      // the apply's answer (the coordinator, asking the status by revision) thus learns that N
      // was interrupted and undone, rather than that the node never got N, which would make it
      // send N again, and again if the agent keeps dying.
      const plan: PlanResult = { revision: pending.revision, changed: true, restart: out.restarted, files: [] }
      return this.#result(pending.revision, plan, dropped === undefined ? out : { ...out, message: `${out.message}; ${dropped}` }, true)
    })
  }

  /**
   * Removes what a commit that never happened left in the state directory: a desired record that
   * names another revision than applied.json (reset to it), stored changes of revisions that are
   * not committed, and the backup set of `undone` (a transaction recovery just undid), unless it
   * belongs to a committed revision. Logs and returns what it removed. Only under the apply lock.
   */
  async #dropUncommitted (undone?: PendingRecord): Promise<string | undefined> {
    const { state, clock, log } = this.#deps
    const applied = await state.readApplied()
    const committed = applied === undefined ? [] : [applied.revision, ...applied.previous.map((p) => p.revision)]
    const removed = await state.pruneChanges(committed)
    const staleDesired = await state.followApplied(applied, clock.now())
    if (undone !== undefined && !committed.map(String).includes(undone.backupKey)) {
      const set = await state.removeBackupSet(undone.backupKey)
      if (set !== undefined) removed.push(set)
    }
    if (removed.length === 0 && staleDesired === undefined) return undefined
    const on = applied === undefined ? 'no committed revision' : `committed revision ${applied.revision}`
    const what = [
      ...(removed.length === 0 ? [] : [`removed ${removed.length} record${removed.length === 1 ? '' : 's'} of uncommitted revisions (${removed.map((p) => relative(state.dir, p)).join(', ')})`]),
      ...(staleDesired === undefined ? [] : [`desired revision ${staleDesired} was never committed: reset to ${on}`])
    ].join('; ')
    log.warn({ removed, ...(staleDesired === undefined ? {} : { staleDesired }) }, `${what}; the node stays on ${on}`)
    return what
  }

  /**
   * Removes temporary files that a killed write left beside the managed files and in the state
   * directory (they may hold the new config with its API key), logging their names, and (`tidy`)
   * the records of uncommitted revisions (#dropUncommitted). Only under the apply lock
   * (`locked`: already held), so never those of a write in progress: when another process holds
   * the lock, its files are live and stay.
   */
  async #removeLeftovers (locked: boolean, tidy = true): Promise<void> {
    const { lock, log, state, store } = this.#deps
    if (!locked) {
      if (this.#inFlight !== undefined) return
      try {
        await lock.acquire()
      } catch (err) {
        if (err instanceof ChangeConflictError) return
        throw err
      }
    }
    try {
      const removed = [...await store.removeLeftovers([this.#opts.files.config, this.#opts.files.env]), ...await state.removeLeftovers()]
      if (removed.length > 0) log.warn({ removed }, `removed ${removed.length} temporary file${removed.length === 1 ? '' : 's'} left by an interrupted write`)
      if (tidy) await this.#dropUncommitted()
    } finally {
      if (!locked) await lock.release()
    }
  }

  /**
   * Boot convergence: when the files do not match the desired revision's change, applies it
   * again, after `goAhead` (the coordinator's slot) when given. Returns what happened.
   */
  async converge (goAhead?: (revision: number) => Promise<(r: ApplyResult) => Promise<void>>): Promise<{ state: 'none' | 'in-sync' } | { state: 'applied', result: ApplyResult }> {
    const desired = await this.#deps.state.readDesired()
    if (desired === undefined) return { state: 'none' }
    // The stored spec carries the verify window it was accepted with, so no default applies.
    const change = validateChange(desired.spec, { defaults: { verify: this.#opts.verify } })
    const { plan } = await this.#plan(change)
    if (!plan.changed) return { state: 'in-sync' }
    this.#deps.log.warn({ revision: change.revision }, 'files differ from the desired revision; converging')
    const done = goAhead === undefined ? undefined : await goAhead(change.revision)
    const result = await this.apply(change)
    await done?.(result)
    return { state: 'applied', result }
  }
}

/** The plan step's message: the files a change changes, or that it changes none. */
function planMessage (view: PlanResult): string {
  return view.changed ? `changes ${view.files.filter((f) => f.changed).map((f) => f.path).join(', ')}` : 'nothing to change'
}

/**
 * What moved since `s` was staged, or undefined: the applied revision (or its change), or a
 * managed file's content or mode. Said without any content (a file may hold secrets).
 */
function whatMoved (s: Staged, applied: AppliedRecord | undefined, current: Record<string, FileSnapshot>): string | undefined {
  if (applied?.revision !== s.applied?.revision || applied?.changeHash !== s.applied?.changeHash) {
    return `the applied revision is ${applied?.revision ?? 'none'} (${applied?.revision === s.applied?.revision ? 'committed again with another change' : `was ${s.applied?.revision ?? 'none'}`})`
  }
  for (const b of s.base) {
    const now = current[b.name]
    if (contentSha(now?.content) !== b.sha) return `${b.path} changed`
    if (JSON.stringify(now?.meta) !== JSON.stringify(b.meta)) return `the mode or owner of ${b.path} changed`
  }
  return undefined
}

/** The restart policy a stored change was applied with; on-change when it is not known. */
function restartPolicyOf (spec: unknown): RestartPolicy {
  const r = typeof spec === 'object' && spec !== null ? (spec as { restart?: unknown }).restart : undefined
  return r === 'never' || r === 'always' || r === 'on-change' ? r : 'on-change'
}
