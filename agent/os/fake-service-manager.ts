// In-memory ServiceManager for tests, implementing the same port as the systemctl one: a unit whose state the test scripts, with
// helpers that move it the way systemd 252 was measured to move it in the lab: a
// manual restart starts a new run with a new InvocationID and NRestarts back at 0; a crash under
// Restart=always passes through activating/auto-restart and the next run counts NRestarts up;
// a start that keeps failing ends in failed/failed.
import { randomUUID } from 'node:crypto'
import { OsPortError } from '../errors.js'
import type { ServiceManager, UnitStatus } from './service-manager.js'

/** A unit that runs: `active/running` with a main PID. */
export const RUNNING: Readonly<UnitStatus> = Object.freeze({
  activeState: 'active',
  subState: 'running',
  result: 'success',
  invocationId: '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a',
  nRestarts: 0,
  mainPid: 100,
  execMainStatus: 0,
  loadState: 'loaded'
})

/** A fresh InvocationID (32 lowercase hex, like systemd's). */
export function newInvocationId (): string {
  return randomUUID().replaceAll('-', '')
}

/** Options of {@link FakeServiceManager}. */
export interface FakeServiceManagerOptions {
  unit?: string
  /** Initial state, over {@link RUNNING}. */
  status?: Partial<UnitStatus>
  /**
   * What `restart()` does after recording the call. Default: {@link FakeServiceManager.startRun}
   * at once. Pass `() => {}` for a restart that systemd accepted but has not carried out yet.
   */
  onRestart?: (unit: FakeServiceManager) => void
}

/** A scriptable unit. Its methods never wait; tests move it with the helpers below. */
export class FakeServiceManager implements ServiceManager {
  readonly unit: string
  /** Every call, in order (`status` | `restart`). */
  readonly calls: Array<'status' | 'restart'> = []
  /** The state `status()` reports; tests may assign it directly. */
  current: UnitStatus
  /** When set, `status()` rejects with it (once per queued error). */
  readonly statusErrors: Error[] = []
  /** When set, the next `restart()` rejects with it instead of restarting. */
  restartError: Error | undefined
  #onRestart: (unit: FakeServiceManager) => void
  #queued: Array<Partial<UnitStatus>> = []
  #pid: number

  constructor (opts: FakeServiceManagerOptions = {}) {
    this.unit = opts.unit ?? 'minkms.service'
    this.current = { ...RUNNING, ...opts.status }
    this.#pid = Math.max(this.current.mainPid, 100)
    this.#onRestart = opts.onRestart ?? ((u) => { u.startRun() })
  }

  /** How many times `status()` was called. */
  get statusCalls (): number {
    return this.calls.filter((c) => c === 'status').length
  }

  async status (): Promise<UnitStatus> {
    this.calls.push('status')
    const err = this.statusErrors.shift()
    if (err !== undefined) throw err
    const next = this.#queued.shift()
    if (next !== undefined) this.set(next)
    return { ...this.current }
  }

  async restart (opts: { signal?: AbortSignal } = {}): Promise<void> {
    this.calls.push('restart')
    opts.signal?.throwIfAborted()
    if (this.restartError !== undefined) {
      const e = this.restartError
      this.restartError = undefined
      throw e
    }
    this.#onRestart(this)
  }

  /** Merges `patch` into the current state. */
  set (patch: Partial<UnitStatus>): this {
    this.current = { ...this.current, ...patch }
    return this
  }

  /** States that the next `status()` calls apply, one per call, before answering. */
  queue (...patches: Array<Partial<UnitStatus>>): this {
    this.#queued.push(...patches)
    return this
  }

  /** A manual (re)start: new InvocationID, new PID, running, NRestarts flushed to 0. Returns the id. */
  startRun (patch: Partial<UnitStatus> = {}): string {
    const invocationId = patch.invocationId ?? newInvocationId()
    this.set({ ...RUNNING, loadState: this.current.loadState, mainPid: ++this.#pid, ...patch, invocationId })
    return invocationId
  }

  /**
   * The main process exits with `code`. Under Restart=always (`autoRestart`, default true) the
   * unit waits in activating/auto-restart; without it an exit 0 leaves inactive/dead and any
   * other code failed/failed.
   */
  exitRun (code: number, opts: { autoRestart?: boolean } = {}): this {
    const result = code === 0 ? 'success' : 'exit-code'
    if (opts.autoRestart ?? true) return this.set({ activeState: 'activating', subState: 'auto-restart', result, mainPid: 0, execMainStatus: code })
    if (code === 0) return this.set({ activeState: 'inactive', subState: 'dead', result, mainPid: 0, execMainStatus: 0 })
    return this.set({ activeState: 'failed', subState: 'failed', result, mainPid: 0, execMainStatus: code })
  }

  /** systemd restarts the unit by itself: NRestarts + 1 and a new run. Returns the new InvocationID. */
  autoRestart (): string {
    const n = this.current.nRestarts + 1
    return this.startRun({ nRestarts: n })
  }

  /** The start limit is hit: failed/failed, no main process, the last run's InvocationID kept. */
  giveUp (result = 'exit-code'): this {
    return this.set({ activeState: 'failed', subState: 'failed', result, mainPid: 0 })
  }

  /** A crash loop of `runs` runs that each exit with `code`, then the start limit (systemd 252's sequence). */
  crashLoop (runs: number, code = 1): string[] {
    const ids: string[] = []
    for (let i = 0; i < runs; i++) {
      if (i > 0) ids.push(this.autoRestart())
      this.exitRun(code)
    }
    this.giveUp()
    return ids
  }
}

/** Builds the typed error the real adapter would throw, for scripting failures. */
export function unitError (code: 'AGT_UNIT_STATUS_FAILED' | 'AGT_UNIT_RESTART_FAILED' | 'AGT_UNIT_NOT_FOUND', stderr: string): OsPortError {
  return new OsPortError(code, `${code}: ${stderr}`, { stderr })
}
