// An in-memory AgentClient that behaves like the nodes of a cluster, for the engine's tests: each
// node has its revisions (applied, desired, committed history), its apply lock, its unit's run
// (InvocationID) and a journal with cursors that apply, rollback and restarts write to the way
// systemd and minkms do ("Stopped …", "Started …", the ready line). Behaviour out of the ordinary
// is scripted per node and call: unreachable, the agent's own errors, bad answers, an apply the
// agent rolled back, a verdict the journal contradicts, an answer held until the test releases it.
//
// Like shared/fake-process-runner.ts, a script the code under test never consumed is an error:
// call assertNoPendingScripts() at teardown (an unused script is a call the engine did not make).
import type { ChangeSpec, RestartPolicy } from '../../shared/change/schema.js'
import type { Clock } from '../../shared/clock.js'
import { MINKMS_READY, rootApiKeyOfLine, withSafeApiKey } from '../../shared/minkms/journal-lines.js'
import { parseApiKey } from '../../shared/minkms/keys.js'
import { Secret } from '../../shared/secrets/secret.js'
import type { AgentStatus } from '../../shared/schemas/agent-status.js'
import type { ApplyEvent, ApplyResult, ApplyStep, PlanResult } from '../../shared/schemas/apply.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import type { ExternalKmsPreflightRequest, ExternalKmsPreflightResult } from '../../shared/schemas/preflight.js'
import type { StagedChange } from '../../shared/schemas/staged.js'
import type { Verdict } from '../../shared/schemas/verdict.js'
import type { AgentClient, AgentPreflightClient, AgentRootKeyClient, AgentStagingClient, NodeRootApiKey, StreamOptions } from '../ports/agent-client.js'
import type { NodeRef } from '../ports/node-ref.js'
import { createHash } from 'node:crypto'
import { AgentAnsweredError, AgentBadAnswerError, AgentUnreachableError } from './agent-call-errors.js'

/** The calls of the port. */
export type AgentOp = 'status' | 'ready' | 'plan' | 'apply' | 'rollback' | 'journalCursor' | 'journalTail' | 'followJournal' | 'preflightExternalKms' |
  'stage' | 'commitStaged' | 'discardStaged' | 'rootApiKey'

/** How an apply or rollback that gets past its checks ends. */
export type FakeOutcome =
  /** Restarted (when the policy says so), ready, committed. */
  | 'ok'
  /** The new run logged a fatal line; the agent restored the files, restarted again (ready) and answers `rolled-back`. */
  | 'rolled-back'
  /** As `rolled-back`, but the restored run failed too: `rollback-failed`. */
  | 'rollback-failed'
  /** The verdict says ok, but the new run logged the ready line and then a fatal line. */
  | 'fatal-after-ready'
  /** The verdict says ok, but the new run never logged the ready line. */
  | 'no-ready-line'

/** A scripted answer to the next call of one op on one node. */
export type FakeAnswer = (
  | { fail: 'unreachable', sent?: boolean }
  | { fail: 'agent-error', code: string, message?: string, statusCode?: number }
  | { fail: 'bad-answer' }
  | { outcome: FakeOutcome }
  | { ready: boolean }
  /** preflightExternalKms: per server, `true` passes every check, a string fails its `tls` check with that reason. */
  | { preflight: Record<string, true | string> }
  /** plan: answer these file plans (a config diff, say) instead of none. */
  | { planFiles: PlanResult['files'] }
) & {
  /** Wait for this before answering (apply/rollback: after the restart, before the result). */
  hold?: Promise<unknown>
}

/** What a node starts with. */
export interface FakeNodeInit {
  /** Applied (and committed) revision; default 0 (nothing applied). */
  revision?: number
  /** The unit's current InvocationID; default a generated one. */
  invocationId?: string
  /** Unit name; default minkms.service. */
  unit?: string
}

/** One call the fake received. */
export interface FakeAgentCall { node: string, op: AgentOp, revision?: number }

interface Script { answer: FakeAnswer, left: number, used: number }

interface NodeState {
  ref: NodeRef
  unit: string
  applied: number
  desired: number
  /** Committed revisions, oldest first, with the body each was applied with. */
  history: Array<{ revision: number, body: string, restart: RestartPolicy | undefined }>
  locked: boolean
  invocationId: string
  journal: JournalEntry[]
  wake: Set<() => void>
  scripts: Map<AgentOp, Script[]>
  lastResult?: ApplyResult & { at: number }
  /** The staged change (memory of the agent: lost by restartAgent()); `base` is the applied revision and files generation it was planned on. */
  staged?: { revision: number, body: string, restart: RestartPolicy | undefined, base: string, expiresAt: number }
  /** Bumped by drift(): a staged change planned on older files is stale. */
  filesGeneration: number
}

const STEPS: ApplyStep[] = ['lock', 'plan', 'backup', 'validate', 'write', 'restart', 'verify', 'commit']

/** Nodes in memory behind the AgentClient port. */
export class FakeAgentClient implements AgentClient, AgentPreflightClient, AgentStagingClient, AgentRootKeyClient {
  /** Every call, in order. */
  readonly calls: FakeAgentCall[] = []
  readonly #clock: Clock
  readonly #nodes = new Map<string, NodeState>()
  #seq = 0

  constructor (clock: Clock) {
    this.#clock = clock
  }

  /**
   * Lines each new run of a node logs right after `Starting server instance...`, by node name
   * (e.g. a banner's `API Key` line, in clear as minkms logs it or in the safe form); asked once
   * per restart. Like the agent, the journal calls serve an `API Key` line in its safe form.
   */
  readonly runLines = new Map<string, () => string[]>()

  /** Root API keys answered by rootApiKey() for a node whose current run logged none in clear, by node name. */
  readonly rootKeys = new Map<string, string>()

  /** Adds a node (keyed by cluster and name). */
  addNode (ref: NodeRef, init: FakeNodeInit = {}): this {
    const revision = init.revision ?? 0
    this.#nodes.set(key(ref), {
      ref,
      unit: init.unit ?? 'minkms.service',
      applied: revision,
      desired: revision,
      history: revision > 0 ? [{ revision, body: '', restart: undefined }] : [],
      locked: false,
      invocationId: init.invocationId ?? this.#newInvocation(),
      journal: [],
      wake: new Set(),
      scripts: new Map(),
      filesGeneration: 0
    })
    return this
  }

  /** Scripts the next `times` (default 1) calls of `op` on `node`. Scripts of one op are used in order. */
  script (node: NodeRef, op: AgentOp, answer: FakeAnswer, opts: { times?: number } = {}): this {
    const n = this.#node(node)
    const list = n.scripts.get(op) ?? []
    list.push({ answer, left: opts.times ?? 1, used: 0 })
    n.scripts.set(op, list)
    return this
  }

  /** Scripts not (fully) consumed, one line each. */
  pendingScripts (): string[] {
    const out: string[] = []
    for (const n of this.#nodes.values()) {
      for (const [op, list] of n.scripts) {
        for (const s of list) if (s.left > 0) out.push(`${n.ref.name} ${op} ${describe(s.answer)}: used ${s.used}, ${s.left} more expected`)
      }
    }
    return out
  }

  /** Throws, naming each one, when a script was never (fully) used. */
  assertNoPendingScripts (): void {
    const pending = this.pendingScripts()
    if (pending.length > 0) throw new Error(`FakeAgentClient: ${pending.length} scripted answer(s) never used:\n  ${pending.join('\n  ')}`)
  }

  /** The node's state, for assertions. */
  /** Someone edited the node's managed files: a change staged before is stale (AGT_STAGED_STALE at commit). */
  drift (ref: NodeRef): this {
    this.#node(ref).filesGeneration++
    return this
  }

  /** The agent process restarted: its staged change (memory only) is gone. */
  restartAgent (ref: NodeRef): this {
    delete this.#node(ref).staged
    return this
  }

  /** The revision staged on the node, if any. */
  staged (ref: NodeRef): number | undefined {
    return this.#node(ref).staged?.revision
  }

  node (ref: NodeRef): { applied: number, desired: number, locked: boolean, invocationId: string, journal: readonly JournalEntry[], restarts: number } {
    const n = this.#node(ref)
    const restarts = n.journal.filter((e) => e.message === `Started ${n.unit}.`).length
    return { applied: n.applied, desired: n.desired, locked: n.locked, invocationId: n.invocationId, journal: n.journal, restarts }
  }

  /** Appends lines to a node's journal (of its current run unless `invocationId` says otherwise). */
  log (ref: NodeRef, ...lines: Array<string | { message: string, invocationId?: string }>): JournalEntry[] {
    const n = this.#node(ref)
    return lines.map((l) => this.#append(n, typeof l === 'string' ? l : l.message, typeof l === 'string' ? n.invocationId : l.invocationId))
  }

  async status (node: NodeRef): Promise<AgentStatus> {
    const n = await this.#call(node, 'status')
    const ok = { ok: true, message: 'ok' }
    return {
      node: n.ref.name,
      unit: {
        name: n.unit,
        status: { activeState: 'active', subState: 'running', result: 'success', invocationId: n.invocationId, nRestarts: 0, mainPid: 100, execMainStatus: 0, loadState: 'loaded' }
      },
      appliedRevision: n.applied,
      desiredRevision: n.desired,
      applying: n.locked,
      drift: [],
      ...(n.lastResult === undefined ? {} : { lastResult: lastResultOf(n.lastResult) }),
      // As the real agent shows it: revision and times, while it has not expired (staged 10 minutes before expiresAt).
      ...(n.staged === undefined || n.staged.expiresAt <= this.#clock.now() ? {} : { staged: { revision: n.staged.revision, stagedAt: n.staged.expiresAt - 600_000, expiresAt: n.staged.expiresAt } }),
      checks: { config: ok, unit: ok, journal: ok }
    }
  }

  async ready (node: NodeRef): Promise<boolean> {
    const s = this.#take(this.#node(node), 'ready')
    await this.#call(node, 'ready', undefined, s)
    return s !== undefined && 'ready' in s ? s.ready : true
  }

  async plan (node: NodeRef, change: ChangeSpec): Promise<PlanResult> {
    const n = this.#node(node)
    const s = this.#take(n, 'plan')
    await this.#call(node, 'plan', change.revision, s)
    const files = s !== undefined && 'planFiles' in s ? s.planFiles : []
    return { revision: change.revision, changed: true, restart: change.restart !== 'never', files }
  }

  async apply (node: NodeRef, change: ChangeSpec, opts: StreamOptions = {}): Promise<ApplyResult> {
    const n = this.#node(node)
    const s = this.#take(n, 'apply')
    await this.#call(node, 'apply', change.revision, s)
    const { body, applied } = refuseRevision(n, change)
    if (applied !== undefined && change.revision === applied.revision) {
      return this.#finish(n, { result: 'ok', revision: change.revision, changed: false, restarted: false, message: `revision ${change.revision}: files already as the change wants`, plan: planOf(change.revision, false, false) })
    }
    n.desired = change.revision
    return await this.#transaction(n, { revision: change.revision, body, restart: change.restart }, s, opts)
  }

  async rollback (node: NodeRef, opts: StreamOptions & { restart?: RestartPolicy } = {}): Promise<ApplyResult> {
    const n = this.#node(node)
    const s = this.#take(n, 'rollback')
    await this.#call(node, 'rollback', undefined, s)
    if (n.locked) throw agentError(n, 'AGT_CHANGE_CONFLICT', 'another change is in progress on this node', 409)
    const previous = n.history.at(-2)
    if (previous === undefined) throw agentError(n, 'AGT_NOTHING_TO_ROLL_BACK', 'there is no earlier committed revision to roll back to', 409)
    const current = n.history.at(-1)
    return await this.#transaction(n, { ...previous, restart: opts.restart ?? current?.restart }, s, opts, true)
  }

  /** Refused as an apply would be; keeps the change (one per node, replacing an earlier one). */
  async stage (node: NodeRef, change: ChangeSpec): Promise<StagedChange> {
    const n = this.#node(node)
    const s = this.#take(n, 'stage')
    await this.#call(node, 'stage', change.revision, s)
    const { body } = refuseRevision(n, change)
    const now = this.#clock.now()
    n.staged = { revision: change.revision, body, restart: change.restart, base: baseOf(n), expiresAt: now + 600_000 }
    return { revision: change.revision, changeHash: createHash('sha256').update(body).digest('hex'), stagedAt: now, expiresAt: n.staged.expiresAt, plan: planOf(change.revision, true, change.restart !== 'never') }
  }

  /** Runs the staged transaction like apply (scripts of `commitStaged` as those of `apply`). */
  async commitStaged (node: NodeRef, revision: number, opts: StreamOptions = {}): Promise<ApplyResult> {
    const n = this.#node(node)
    const s = this.#take(n, 'commitStaged')
    await this.#call(node, 'commitStaged', revision, s)
    if (n.locked) throw agentError(n, 'AGT_CHANGE_CONFLICT', 'another change is in progress on this node', 409)
    const staged = n.staged
    if (staged === undefined || staged.revision !== revision || staged.expiresAt <= this.#clock.now()) {
      throw agentError(n, 'AGT_NOT_STAGED', `revision ${revision} is not staged on this node${staged === undefined ? '' : ` (revision ${staged.revision} is)`}`, 409)
    }
    delete n.staged
    if (staged.base !== baseOf(n)) throw agentError(n, 'AGT_STAGED_STALE', `the managed files or the applied revision changed since revision ${revision} was staged; stage it again`, 409)
    n.desired = revision
    return await this.#transaction(n, staged, s, opts)
  }

  async discardStaged (node: NodeRef): Promise<number | undefined> {
    const n = await this.#call(node, 'discardStaged')
    const r = n.staged?.revision
    delete n.staged
    return r
  }

  /** Every server passes unless a `{ preflight }` script says otherwise. */
  async preflightExternalKms (node: NodeRef, req: ExternalKmsPreflightRequest): Promise<ExternalKmsPreflightResult> {
    const n = this.#node(node)
    const s = this.#take(n, 'preflightExternalKms')
    await this.#call(node, 'preflightExternalKms', undefined, s)
    const scripted = s !== undefined && 'preflight' in s ? s.preflight : {}
    const ok = { status: 'ok' as const, ms: 1 }
    const skipped = { status: 'skipped' as const, reason: 'the tls check failed' }
    const servers = req.servers.map((server) => {
      const failure = scripted[server]
      return typeof failure === 'string'
        ? { server, ok: false, checks: { tls: { status: 'failed' as const, ms: 1, reason: failure }, auth: skipped, roundTrip: skipped }, ms: 1 }
        : { server, ok: true, checks: { tls: ok, auth: ok, roundTrip: ok }, ms: 3 }
    })
    const reachable = servers.filter((x) => x.ok).length
    return { node: n.ref.name, ok: reachable === servers.length, reachable, trust: { source: 'system' }, servers }
  }

  /**
   * The current run's banner key in clear (its last `API Key` line), else the key set in
   * `rootKeys`, else the agent's 404 AGT_ROOT_KEY_NOT_LOGGED.
   */
  async rootApiKey (node: NodeRef): Promise<NodeRootApiKey> {
    const n = await this.#call(node, 'rootApiKey')
    let key: string | undefined
    for (const e of n.journal) if (e.invocationId === n.invocationId) key = rootApiKeyOfLine(e.message) ?? key
    key ??= this.rootKeys.get(n.ref.name)
    if (key === undefined) throw agentError(n, 'AGT_ROOT_KEY_NOT_LOGGED', `no root API key to answer: the current run (InvocationID ${n.invocationId}) has not logged its banner's API Key line`, 404)
    return { invocationId: n.invocationId, identity: parseApiKey(key).identity, apiKey: new Secret(key) }
  }

  async journalCursor (node: NodeRef): Promise<string | undefined> {
    const n = await this.#call(node, 'journalCursor')
    return n.journal.at(-1)?.cursor
  }

  async journalTail (node: NodeRef, opts: { limit: number }): Promise<JournalEntry[]> {
    const n = await this.#call(node, 'journalTail')
    return n.journal.slice(-opts.limit).map(safe)
  }

  async followJournal (node: NodeRef, opts: { after?: string, signal: AbortSignal, onEntry: (e: JournalEntry) => void }): Promise<void> {
    const n = await this.#call(node, 'followJournal')
    let next = opts.after === undefined ? 0 : n.journal.findIndex((e) => e.cursor === opts.after) + 1
    if (opts.after !== undefined && next === 0) throw agentError(n, 'AGT_JOURNAL_FOLLOW_FAILED', 'Failed to seek to cursor: Invalid argument', 500)
    while (!opts.signal.aborted) {
      while (next < n.journal.length) {
        const e = n.journal[next++]
        if (e !== undefined) opts.onEntry(safe(e))
        if (opts.signal.aborted) return
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          n.wake.delete(done)
          opts.signal.removeEventListener('abort', done)
          resolve()
        }
        n.wake.add(done)
        opts.signal.addEventListener('abort', done, { once: true })
      })
    }
  }

  async #transaction (n: NodeState, target: { revision: number, body: string, restart: RestartPolicy | undefined }, s: FakeAnswer | undefined, opts: StreamOptions, isRollback = false): Promise<ApplyResult> {
    const outcome = s !== undefined && 'outcome' in s ? s.outcome : 'ok'
    const restart = target.restart !== 'never'
    n.locked = true
    try {
      const event = (step: ApplyStep, status: ApplyEvent['status'] = 'done'): void => { opts.onEvent?.({ step, status, at: this.#clock.now() }) }
      for (const step of STEPS.slice(0, 5)) event(step)
      if (!restart) {
        event('restart', 'skipped')
        event('verify', 'skipped')
        event('commit')
        this.#commit(n, target, isRollback)
        return this.#finish(n, { result: 'changed', revision: target.revision, changed: true, restarted: false, message: `revision ${target.revision} written; not restarted`, plan: planOf(target.revision, true, false) })
      }
      event('restart')
      const before = n.invocationId
      const restartAt = this.#clock.now()
      const baseline = { cursor: n.journal.at(-1)?.cursor ?? '', invocationId: before, nRestarts: 0, takenAt: restartAt }
      const ours = this.#restart(n, outcome === 'no-ready-line' ? [] : outcome === 'ok' ? [READY_LINE] : outcome === 'fatal-after-ready' ? [READY_LINE, FATAL_LINE] : [FATAL_LINE])
      await s?.hold
      const verdictOk = outcome === 'ok' || outcome === 'fatal-after-ready' || outcome === 'no-ready-line'
      const verdict = this.#verdict(n, baseline, ours, verdictOk)
      event('verify', verdictOk ? 'done' : 'failed')
      if (verdictOk) {
        event('commit')
        this.#commit(n, target, isRollback)
        return this.#finish(n, { result: 'changed', revision: target.revision, changed: true, restarted: true, message: `revision ${target.revision} applied and verified`, plan: planOf(target.revision, true, true), verdict })
      }
      for (const step of ['restore', 'restart-restore'] as const) event(step)
      const restored = this.#restart(n, outcome === 'rollback-failed' ? [FATAL_LINE] : [READY_LINE])
      const rollbackOk = outcome !== 'rollback-failed'
      event('verify-restore', rollbackOk ? 'done' : 'failed')
      n.desired = n.applied
      return this.#finish(n, {
        result: rollbackOk ? 'rolled-back' : 'rollback-failed',
        revision: n.applied,
        changed: false,
        restarted: true,
        failedStep: rollbackOk ? 'verify' : 'verify-restore',
        message: rollbackOk ? `revision ${target.revision} failed its verification; the files were restored and minkms restarted on revision ${n.applied}` : `revision ${target.revision} failed and so did the restore`,
        plan: planOf(target.revision, true, true),
        verdict,
        rollbackVerdict: this.#verdict(n, { ...baseline, invocationId: ours }, restored, rollbackOk)
      })
    } finally {
      n.locked = false
    }
  }

  #commit (n: NodeState, target: { revision: number, body: string, restart: RestartPolicy | undefined }, isRollback: boolean): void {
    if (isRollback) n.history.pop()
    else n.history.push(target)
    n.applied = target.revision
    n.desired = target.revision
  }

  /** Stops the current run and starts a new one that logs `lines`; returns its InvocationID. */
  #restart (n: NodeState, lines: string[]): string {
    const old = n.invocationId
    this.#append(n, `Stopping ${n.unit}...`, old)
    this.#append(n, `Stopped ${n.unit}.`, old)
    n.invocationId = this.#newInvocation()
    this.#append(n, `Started ${n.unit}.`, n.invocationId)
    this.#append(n, 'Starting server instance...', n.invocationId)
    for (const l of this.runLines.get(n.ref.name)?.() ?? []) this.#append(n, l, n.invocationId)
    for (const l of lines) this.#append(n, l, n.invocationId)
    return n.invocationId
  }

  #verdict (n: NodeState, baseline: Verdict['baseline'], invocationId: string, ok: boolean): Verdict {
    const now = this.#clock.now()
    const line = n.journal.filter((e) => e.invocationId === invocationId).find((e) => MINKMS_READY.test(e.message) || e.message === FATAL_LINE)
    return {
      ok,
      reason: ok ? 'ready' : 'fatal-line',
      summary: ok ? `${n.unit} restarted and ready` : `${n.unit} logged a fatal line`,
      baseline,
      invocationId,
      lines: line === undefined ? [] : [{ at: line.realtimeUs / 1000, message: line.message, kind: ok ? 'ready' : 'fatal', invocationId }],
      timings: { restartAt: baseline.takenAt, verdictAt: now }
    }
  }

  #finish (n: NodeState, r: ApplyResult): ApplyResult {
    n.lastResult = { ...r, at: this.#clock.now() }
    return r
  }

  #append (n: NodeState, message: string, invocationId: string | undefined): JournalEntry {
    const seq = ++this.#seq
    const e: JournalEntry = {
      cursor: `s=f;i=${seq.toString(16)}`,
      realtimeUs: this.#clock.now() * 1000 + (seq % 1000),
      message,
      unit: n.unit,
      ...(invocationId === undefined ? {} : { invocationId })
    }
    n.journal.push(e)
    for (const wake of [...n.wake]) wake()
    return e
  }

  #newInvocation (): string {
    return (++this.#seq).toString(16).padStart(32, '0')
  }

  #node (ref: NodeRef): NodeState {
    const n = this.#nodes.get(key(ref))
    if (n === undefined) throw new Error(`FakeAgentClient: no node ${key(ref)}; addNode() it first`)
    return n
  }

  #take (n: NodeState, op: AgentOp): FakeAnswer | undefined {
    const s = n.scripts.get(op)?.find((x) => x.left > 0)
    if (s === undefined) return undefined
    s.left--
    s.used++
    return s.answer
  }

  /** Records the call and applies a scripted failure (taking the script unless `taken` is given). */
  async #call (ref: NodeRef, op: AgentOp, revision?: number, taken?: FakeAnswer): Promise<NodeState> {
    const n = this.#node(ref)
    this.calls.push({ node: ref.name, op, ...(revision === undefined ? {} : { revision }) })
    const s = taken ?? (op === 'ready' || op === 'apply' || op === 'rollback' || op === 'stage' || op === 'commitStaged' ? undefined : this.#take(n, op))
    if (s === undefined || !('fail' in s)) return n
    await s.hold
    if (s.fail === 'unreachable') throw new AgentUnreachableError(ref.name, 'connect ECONNREFUSED (scripted)', { sent: s.sent ?? false })
    if (s.fail === 'bad-answer') throw new AgentBadAnswerError(ref.name, 'the answer does not match the agent API (scripted)')
    throw agentError(n, s.code, s.message ?? `scripted ${s.code}`, s.statusCode ?? 409)
  }
}

const READY_LINE = '=> Server is up and running...'
const FATAL_LINE = '2026-01-01 00:00:00 FATAL kms: scripted failure'

/** An entry as the agent serves it: the banner's API key in its safe form. */
function safe (e: JournalEntry): JournalEntry {
  const message = withSafeApiKey(e.message)
  return message === e.message ? e : { ...e, message }
}

function key (ref: NodeRef): string {
  return `${ref.cluster}/${ref.name}`
}

/**
 * The revision rules an apply and a stage share, as the agent applies them: refused while another
 * change runs, for a revision older than the applied one, or for the applied revision with other
 * content. Returns the change's body and the applied revision's record.
 */
function refuseRevision (n: NodeState, change: ChangeSpec): { body: string, applied: NodeState['history'][number] | undefined } {
  const body = JSON.stringify(change)
  const applied = n.history.at(-1)
  if (n.locked) throw agentError(n, 'AGT_CHANGE_CONFLICT', 'another change is in progress on this node', 409)
  if (applied !== undefined && change.revision < applied.revision) throw agentError(n, 'AGT_STALE_REVISION', `revision ${change.revision} is older than the applied revision ${applied.revision}`, 409)
  if (applied !== undefined && change.revision === applied.revision && applied.body !== body) throw agentError(n, 'AGT_REVISION_CONFLICT', `revision ${change.revision} was already applied with different content`, 409)
  return { body, applied }
}

function agentError (n: NodeState, code: string, message: string, statusCode: number): AgentAnsweredError {
  return new AgentAnsweredError(n.ref.name, { code, message, statusCode })
}

/** What a staged change was planned on: the applied revision and the files' generation. */
function baseOf (n: NodeState): string {
  return `${n.history.at(-1)?.revision ?? 0}/${n.filesGeneration}`
}

function planOf (revision: number, changed: boolean, restart: boolean): PlanResult {
  return { revision, changed, restart, files: [] }
}

function lastResultOf (r: ApplyResult & { at: number }): NonNullable<AgentStatus['lastResult']> {
  const { plan: _plan, ...rest } = r
  return rest
}

function describe (a: FakeAnswer): string {
  if ('fail' in a) return `fail ${a.fail}${a.fail === 'agent-error' ? ` ${a.code}` : ''}`
  if ('outcome' in a) return `outcome ${a.outcome}`
  if ('preflight' in a) return 'preflight'
  if ('planFiles' in a) return 'planFiles'
  return `ready ${String(a.ready)}`
}
