// A scripted AgentCore for testing the API and the CLI without systemd or files (a fake is a
// real implementation of the same interface). It validates changes with the real
// shared/change validator, so bad input is rejected the way the real core rejects it, and it
// plays an apply as a sequence of events a test can pause, fail or make conflict.
import { buildAgentApp, type AgentApp, type AgentAppDeps } from '../../agent/app.js'
import type { AgentConfig } from '../../agent/config.js'
import type { AgentCore, AgentStatus, ApplyEvent, ApplyOutcome, ApplyResult, ApplyStep, PlanResult, RecoverResult, RunningCore, StagedChange } from '../../agent/core.js'
import { ChangeConflictError, NotStagedError, NothingToRollBackError } from '../../agent/errors.js'
import { FakeJournal } from '../../agent/os/fake-journal.js'
import type { UnitStatus } from '../../agent/os/service-manager.js'
import type { Verdict } from '../../agent/verify/verdict.js'
import type { Change } from '../../shared/change/change.js'
import { deepFreeze, toChangeSpec } from '../../shared/change/change.js'
import { createLogger, type Logger } from '../../shared/logger.js'
import { maskSecret } from '../../shared/secrets/fingerprint.js'
import { isSecret } from '../../shared/secrets/secret.js'

/** How the next apply or rollback plays out. */
export interface ApplyScript {
  /** Final outcome (default `changed`, or `ok` when the plan changes nothing). */
  result?: ApplyOutcome
  /** Step that fails for failed/rolled-back/rollback-failed (default verify). */
  failedStep?: ApplyStep
  /** Awaited after the write step, so a test can hold an apply in progress. */
  gate?: Promise<void>
  /** Reject with this after validation, under the lock (e.g. a stale revision: 409). */
  refuseUnderLock?: Error
  /** Reject with this after the write started (a crash inside the transaction). */
  throwAfterWrite?: Error
}

/** Options of {@link FakeAgentCore}. */
export interface FakeAgentCoreOptions {
  node?: string
  unit?: string
  logger?: Logger
  /** Behave like a careless core: log the raw change and echo secrets in messages and extra fields. */
  leaky?: boolean
}

/** A UnitStatus of a running unit. */
export function runningUnit (invocationId = 'a'.repeat(32)): UnitStatus {
  return { activeState: 'active', subState: 'running', result: 'success', invocationId, nRestarts: 0, mainPid: 4242, execMainStatus: 0, loadState: 'loaded' }
}

/** A verdict (ok or failed) with plausible evidence. */
export function fakeVerdict (ok: boolean, restartAt = 1_700_000_000_000): Verdict {
  return {
    ok,
    reason: ok ? 'ready' : 'fatal-line',
    summary: ok ? 'minkms.service started and was ready after 410 ms' : 'minkms.service logged a fatal line',
    baseline: { cursor: 's=0;i=0', invocationId: 'a'.repeat(32), nRestarts: 0, takenAt: restartAt },
    invocationId: 'b'.repeat(32),
    unit: runningUnit('b'.repeat(32)),
    lines: [{ at: restartAt + 400, message: ok ? '=> Server is up and running...' : 'FATAL: cannot unseal', kind: ok ? 'ready' : 'fatal' }],
    timings: ok
      ? { restartAt, invocationAt: restartAt + 50, readyLineAt: restartAt + 400, healthyAt: restartAt + 410, verdictAt: restartAt + 5410 }
      : { restartAt, invocationAt: restartAt + 50, fatalLineAt: restartAt + 300, verdictAt: restartAt + 320 }
  }
}

const STEPS: ApplyStep[] = ['lock', 'plan', 'validate', 'backup', 'write', 'restart', 'verify', 'commit']
const RESTORE: ApplyStep[] = ['restore', 'restart-restore', 'verify-restore']

/** A scripted AgentCore. */
export class FakeAgentCore implements RunningCore {
  readonly unit: string
  readonly node: string
  readonly journal = new FakeJournal()
  /** Every call, in order, with its (unvalidated) input. */
  readonly calls: Array<{ method: 'plan' | 'apply' | 'rollback' | 'status' | 'metrics' | 'ready' | 'stage' | 'commitStaged' | 'discardStaged', change?: Change, input?: unknown, check?: boolean, revision?: number }> = []
  /** Scripts for the next applies/rollbacks, consumed in order; default: a clean success. */
  readonly scripts: ApplyScript[] = []
  readyResult: Awaited<ReturnType<AgentCore['ready']>> = {
    ok: true,
    checks: { config: { ok: true, message: 'loaded' }, unit: { ok: true, message: 'active/running' }, journal: { ok: true, message: 'attached' } }
  }

  /** The unit's state status() reports (undefined: systemd could not be asked). */
  unitStatus: UnitStatus | undefined = runningUnit()
  /** When set, ready() rejects with it. */
  readyError: Error | undefined
  metricsText = '# HELP keyroll_agent_applying 1 while an apply runs.\n# TYPE keyroll_agent_applying gauge\nkeyroll_agent_applying 0\n'
  closed = false
  #busy: string | undefined
  #applied = 0
  #desired = 0
  #last: (ApplyResult & { at: number }) | undefined
  readonly #log: Logger | undefined
  readonly #leaky: boolean
  readonly #key = 'fake-fingerprint-key'

  constructor (opts: FakeAgentCoreOptions = {}) {
    this.unit = opts.unit ?? 'minkms.service'
    this.node = opts.node ?? 'node1'
    this.#log = opts.logger?.child({ component: 'core' })
    this.#leaky = opts.leaky === true
  }

  async plan (change: Change): Promise<PlanResult> {
    this.#received(change)
    this.calls.push({ method: 'plan', change, input: toChangeSpec(change) })
    return this.#plan(change)
  }

  async apply (change: Change, opts: { check?: boolean, onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal } = {}): Promise<ApplyResult> {
    this.#received(change)
    this.calls.push({ method: 'apply', change, input: toChangeSpec(change), ...(opts.check === undefined ? {} : { check: opts.check }) })
    const emit = (step: ApplyStep, status: ApplyEvent['status'], message?: string): void => {
      opts.onEvent?.({ step, status, at: Date.now(), ...(message === undefined ? {} : { message }) })
    }
    // Like the real core: plan, then lock, then plan again and validate under the lock.
    const valid = change
    const plan = this.#plan(valid)
    if (opts.check === true) return { result: plan.changed ? 'changed' : 'ok', revision: valid.revision, changed: plan.changed, restarted: false, message: 'check mode: nothing written', plan }
    return await this.#transaction(valid.revision, plan, emit, () => {
      emit('plan', 'started')
      emit('plan', 'done', this.#leaky ? `planned ${JSON.stringify(toChangeSpec(change))}` : `revision ${valid.revision}`)
      emit('validate', 'done')
    })
  }

  async rollback (opts: { onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal } = {}): Promise<ApplyResult> {
    this.calls.push({ method: 'rollback' })
    if (this.#applied === 0) throw new NothingToRollBackError()
    const emit = (step: ApplyStep, status: ApplyEvent['status'], message?: string): void => {
      opts.onEvent?.({ step, status, at: Date.now(), ...(message === undefined ? {} : { message }) })
    }
    const revision = this.#applied - 1
    return await this.#transaction(revision, { revision, changed: true, restart: true, files: [] }, emit, () => { emit('plan', 'done', `back to revision ${revision}`) })
  }

  /** The staged change (one; memory only, as in the real core). */
  #staged: { change: Change, view: StagedChange } | undefined

  async stage (change: Change): Promise<StagedChange> {
    this.#received(change)
    this.calls.push({ method: 'stage', change, input: toChangeSpec(change) })
    if (this.#busy !== undefined) throw new ChangeConflictError(this.#busy)
    const now = Date.now()
    const view: StagedChange = { revision: change.revision, changeHash: 'f'.repeat(64), stagedAt: now, expiresAt: now + 600_000, plan: this.#plan(change) }
    this.#staged = { change, view }
    return view
  }

  async commitStaged (revision: number, opts: { onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal } = {}): Promise<ApplyResult> {
    this.calls.push({ method: 'commitStaged', revision })
    const emit = (step: ApplyStep, status: ApplyEvent['status'], message?: string): void => {
      opts.onEvent?.({ step, status, at: Date.now(), ...(message === undefined ? {} : { message }) })
    }
    const staged = this.#staged
    return await this.#transaction(revision, staged?.view.plan ?? { revision, changed: false, restart: false, files: [] }, emit, () => {
      // Under the lock, as in the real core: refused unless this revision is staged; consumed otherwise.
      if (staged?.change.revision !== revision) throw new NotStagedError(revision, staged?.change.revision)
      this.#staged = undefined
      emit('plan', 'done', `staged revision ${revision}`)
      emit('validate', 'done')
    })
  }

  async discardStaged (): Promise<number | undefined> {
    this.calls.push({ method: 'discardStaged' })
    const r = this.#staged?.change.revision
    this.#staged = undefined
    return r
  }

  async status (): Promise<AgentStatus> {
    this.calls.push({ method: 'status' })
    const status: AgentStatus = {
      node: this.node,
      unit: { name: this.unit, ...(this.unitStatus === undefined ? {} : { status: this.unitStatus }) },
      appliedRevision: this.#applied,
      desiredRevision: this.#desired,
      applying: this.#busy !== undefined,
      drift: [],
      ...(this.#staged === undefined ? {} : { staged: { revision: this.#staged.view.revision, stagedAt: this.#staged.view.stagedAt, expiresAt: this.#staged.view.expiresAt } }),
      checks: this.readyResult.checks
    }
    if (this.#last !== undefined) {
      const { plan: _plan, ...last } = this.#last
      status.lastResult = last
    }
    // A careless core adds fields the API must not serialise.
    return this.#leaky ? Object.assign(status, { debug: { lastChange: this.lastRawChange } }) : status
  }

  async metrics (): Promise<string> {
    this.calls.push({ method: 'metrics' })
    return this.metricsText
  }

  async ready (): ReturnType<AgentCore['ready']> {
    this.calls.push({ method: 'ready' })
    if (this.readyError !== undefined) throw this.readyError
    return this.readyResult
  }

  /** Like a real core's close(): the CLI calls it when done. */
  /** What recover() answers (default: nothing was interrupted). */
  recoverResult: (() => Promise<RecoverResult>) | undefined

  async recover (): Promise<RecoverResult> {
    return this.recoverResult !== undefined ? await this.recoverResult() : { action: 'none', revision: this.#applied, message: 'no interrupted change' }
  }

  async close (): Promise<void> {
    this.closed = true
  }

  /** The last change, in the wire form (secrets revealed: a careless core's view of it). */
  lastRawChange: unknown

  #received (change: Change): void {
    this.lastRawChange = toChangeSpec(change)
    if (this.#leaky) this.#log?.info({ change: this.lastRawChange }, 'change received')
  }

  #plan (change: Change): PlanResult {
    const lines = (prefix: string, entries: Array<[string, unknown]>): string =>
      entries.map(([k, v]) => `${prefix}${k}=${isSecret(v) ? (this.#leaky ? v.reveal() : maskSecret(v, this.#key)) : JSON.stringify(v)}`).join('\n')
    const config = change.files.config
    const env = change.files.env
    const files: PlanResult['files'] = []
    // Like the real plan: each diff starts with a header naming the file's path.
    const header = (path: string): string => `--- ${path}\n+++ ${path}\n`
    if (config !== undefined) {
      const path = '/etc/minkms/config.yaml'
      files.push({ name: 'config', path, changed: true, diff: header(path) + lines('+', Object.entries(config.set).flatMap(([p, v]) => flatten(p, v))) })
    }
    if (env !== undefined) {
      const path = '/etc/default/minkms'
      files.push({ name: 'env', path, changed: true, diff: header(path) + [lines('+', Object.entries(env.set)), ...env.unset.map(k => `-${k}=***`)].filter(Boolean).join('\n') })
    }
    const changed = change.revision !== this.#applied && files.some(f => f.changed)
    return { revision: change.revision, changed, restart: changed && change.restart !== 'never', files: changed ? files : files.map(f => ({ ...f, changed: false, diff: '' })) }
  }

  async #transaction (revision: number, plan: PlanResult, emit: (s: ApplyStep, st: ApplyEvent['status'], m?: string) => void, underLock: () => void): Promise<ApplyResult> {
    if (this.#busy !== undefined) throw new ChangeConflictError(this.#busy)
    this.#busy = `revision ${revision}`
    const script = this.scripts.shift() ?? {}
    try {
      emit('lock', 'done')
      underLock()
      if (script.refuseUnderLock !== undefined) throw script.refuseUnderLock
      this.#desired = revision
      const outcome = script.result ?? (plan.changed ? 'changed' : 'ok')
      const failedStep = script.failedStep ?? 'verify'
      let result: ApplyResult
      if (outcome === 'ok') {
        for (const s of STEPS.slice(3)) emit(s, 'skipped')
        result = { result: 'ok', revision, changed: false, restarted: false, message: `revision ${revision} already applied`, plan }
      } else {
        for (const s of STEPS.slice(3, 5)) { emit(s, 'started'); emit(s, 'done') }
        if (script.throwAfterWrite !== undefined) throw script.throwAfterWrite
        if (script.gate !== undefined) await script.gate
        const failed = outcome !== 'changed'
        emit('restart', 'started')
        emit('restart', 'done')
        emit('verify', 'started')
        emit('verify', failed ? 'failed' : 'done', this.#leaky ? `unit env MINIO_KMS_HSM_KEY=${String(findSecret(this.lastRawChange))}` : undefined)
        if (failed) {
          for (const s of RESTORE) { emit(s, 'started'); emit(s, outcome === 'rollback-failed' && s === 'verify-restore' ? 'failed' : 'done') }
          result = {
            result: outcome,
            revision,
            changed: true,
            restarted: true,
            failedStep,
            plan,
            message: outcome === 'rollback-failed' ? 'verify failed and the restore did not come back' : 'minkms logged a fatal line; restored the previous files',
            verdict: fakeVerdict(false),
            rollbackVerdict: fakeVerdict(outcome !== 'rollback-failed')
          }
        } else {
          emit('commit', 'done')
          this.#applied = revision
          result = { result: 'changed', revision, changed: true, restarted: true, message: `revision ${revision} applied`, plan, verdict: fakeVerdict(true) }
        }
      }
      this.#last = { ...result, at: Date.now() }
      return result
    } finally {
      this.#busy = undefined
    }
  }
}

function flatten (prefix: string, v: unknown): Array<[string, unknown]> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !isSecret(v)) {
    return Object.entries(v).flatMap(([k, x]) => flatten(`${prefix}.${k}`, x))
  }
  return [[prefix, v]]
}

// The first `$secret` value found in a raw change (for the leaky core's messages).
function findSecret (v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const s = (v as { $secret?: unknown }).$secret
  if (typeof s === 'string') return s
  for (const x of Object.values(v)) {
    const found = findSecret(x)
    if (found !== undefined) return found
  }
  return undefined
}

/** An agent config for tests: plain HTTP on 127.0.0.1, port 0. */
export function testAgentConfig (over: Partial<AgentConfig> = {}): AgentConfig {
  return deepFreeze({
    node: 'node1',
    unit: 'minkms.service',
    files: { config: { path: '/etc/minkms/config.yaml', kind: 'minkms-config' }, env: { path: '/etc/default/minkms', kind: 'env' } },
    stateDir: '/var/lib/keyroll-agent',
    listen: { host: '127.0.0.1', port: 0 },
    devInsecureHttp: true,
    minkms: { endpoint: 'localhost:7373' },
    verify: { deadline: '60s', stableFor: '5s' },
    backups: { keep: 10 },
    log: { level: 'info' },
    ...over
  } as const)
}

/** A logger whose JSON lines land in `lines` (after the same masking as stdout). */
export function captureLogger (level: 'info' | 'debug' | 'trace' = 'info'): { logger: Logger, lines: string[] } {
  const lines: string[] = []
  return { logger: createLogger({ level, destination: { write: (l: string) => lines.push(l) } }), lines }
}

/** What {@link buildTestAgent} needs from a tap test. */
interface TeardownHost { teardown: (fn: () => unknown) => void }

/** The API over a fake core, closed at teardown; `lines` holds every log line. */
export async function buildTestAgent (t: TeardownHost, over: Partial<AgentAppDeps> & { coreOptions?: FakeAgentCoreOptions } = {}): Promise<{ app: AgentApp, core: FakeAgentCore, lines: string[] }> {
  const { logger, lines } = captureLogger()
  const core = over.core instanceof FakeAgentCore ? over.core : new FakeAgentCore({ logger, ...over.coreOptions })
  const app = buildAgentApp({ core, config: testAgentConfig(), logger, ...over })
  t.teardown(() => app.close())
  await app.ready()
  return { app, core, lines }
}
