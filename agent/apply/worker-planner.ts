// Plans changes in one worker thread (plan-worker.ts), so that the agent's event loop keeps
// answering (/health/live, status, metrics, a journal stream) while a large plan runs: an at-limit
// change or a 10,000-line config holds a thread for hundreds of milliseconds. The worker starts
// with the first plan and stays while plans keep coming; after `idleMs` without one it stops, so
// an idle agent does not carry a second V8 heap (issue 3's idle memory target), and the next plan
// starts it again. Requests are answered in order, one at a time, as on one thread.
//
// The Change crosses as its explicit transfer form (shared/change/change-transfer.ts), the plan
// and errors come back the same way (plan-transfer.ts, error-transfer.ts): the caller gets what
// planChange in its own thread would have returned or thrown.
//
// Which file the worker runs: the compiled plan-worker.js beside this file in dist/ (the daemon),
// or plan-worker.ts beside this source when the agent runs from TypeScript under tsx (tests, the
// benchmarks), with tsx registered in the worker first (tsWorker). A worker inherits the
// process's execArgv (the unit's --jitless and heap flags) and environment.
import { Worker } from 'node:worker_threads'
import { encodeChange } from '../../shared/change/change-transfer.js'
import { decodeError } from '../../shared/change/error-transfer.js'
import type { ChangePlan, CurrentFiles, PlanOptions } from '../../shared/change/plan.js'
import { decodePlan } from '../../shared/change/plan-transfer.js'
import type { Change } from '../../shared/change/change.js'
import type { PlanReply, PlanRequest } from './plan-messages.js'
import type { Planner } from './planner.js'

/** Options of {@link WorkerPlanner}. */
export interface WorkerPlannerOptions {
  /** Stop the worker after this long without a plan (ms); default 30 s. */
  idleMs?: number
  /** The worker's entry file; default plan-worker.js (or .ts under tsx) beside this module. */
  entry?: URL
}

interface Waiting { resolve: (p: ChangePlan) => void, reject: (e: Error) => void }

/** The plan worker's file beside this module, compiled or source. */
export function planWorkerEntry (): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './plan-worker.ts' : './plan-worker.js', import.meta.url)
}

/**
 * A worker running a TypeScript entry: tsx's hooks, which the process registered with `--import`,
 * do not reach a worker thread in Node 20, so the worker registers them itself before it imports
 * the entry. Only where the agent itself runs from sources under tsx (tests, benchmarks).
 */
function tsWorker (entry: URL): Worker {
  const tsx = import.meta.resolve('tsx/esm/api')
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })`, { eval: true })
}

export class WorkerPlanner implements Planner {
  readonly #idleMs: number
  readonly #entry: URL
  #worker: Worker | undefined
  readonly #waiting = new Map<number, Waiting>()
  #nextId = 1
  #idle: NodeJS.Timeout | undefined
  /** Workers started so far (tests: proves the worker is kept warm, and restarted after idling). */
  started = 0

  constructor (opts: WorkerPlannerOptions = {}) {
    this.#idleMs = opts.idleMs ?? 30_000
    this.#entry = opts.entry ?? planWorkerEntry()
  }

  /** True while a worker is up (planning, or idle and kept warm). */
  get running (): boolean { return this.#worker !== undefined }

  async plan (current: CurrentFiles, change: Change, opts: PlanOptions): Promise<ChangePlan> {
    const worker = this.#running()
    const id = this.#nextId++
    const req: PlanRequest = { id, current, change: encodeChange(change), opts }
    return await new Promise<ChangePlan>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      // Referenced while a plan is out, so a CLI process does not exit under it.
      worker.ref()
      worker.postMessage(req)
    })
  }

  async close (): Promise<void> {
    clearTimeout(this.#idle)
    const worker = this.#worker
    this.#worker = undefined
    this.#fail(new Error('the plan worker was stopped (the agent is closing)'))
    await worker?.terminate()
  }

  #running (): Worker {
    clearTimeout(this.#idle)
    if (this.#worker !== undefined) return this.#worker
    const worker = this.#entry.pathname.endsWith('.ts') ? tsWorker(this.#entry) : new Worker(this.#entry)
    this.started++
    worker.on('message', (reply: PlanReply) => { this.#settle(reply) })
    const lost = (why: string): void => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      this.#fail(new Error(`the plan worker ${why}`))
    }
    worker.on('error', (err) => { lost(`failed: ${err.message}`) })
    worker.on('messageerror', (err) => { lost(`sent a message that could not be read: ${err.message}`) })
    worker.on('exit', (code) => { lost(`exited with code ${code}`) })
    this.#worker = worker
    return worker
  }

  #settle (reply: PlanReply): void {
    const waiting = this.#waiting.get(reply.id)
    if (waiting === undefined) return
    this.#waiting.delete(reply.id)
    if (reply.ok) waiting.resolve(decodePlan(reply.plan))
    else waiting.reject(decodeError(reply.error))
    if (this.#waiting.size === 0) this.#rest()
  }

  /** No plan out: let the process exit, and stop the worker if no plan comes within idleMs. */
  #rest (): void {
    const worker = this.#worker
    if (worker === undefined) return
    worker.unref()
    clearTimeout(this.#idle)
    this.#idle = setTimeout(() => {
      if (this.#worker !== worker || this.#waiting.size > 0) return
      this.#worker = undefined
      worker.terminate().catch(() => undefined)
    }, this.#idleMs)
    this.#idle.unref()
  }

  #fail (err: Error): void {
    const waiting = [...this.#waiting.values()]
    this.#waiting.clear()
    for (const w of waiting) w.reject(err)
  }
}
