// Staged changes of one rollout's next nodes. While a node restarts (and is gated and held), the
// node(s) after it get the change staged on their agents (POST /v1/stage: planned under their
// apply lock, kept in the agent's memory); at a node's turn the runner commits the staged change
// (POST /v1/stage/commit), so the time from the request to the restart is the transaction alone,
// not the validation and planning an apply does first.
//
// Everything here is best effort and in memory: a stage that fails (agent unreachable, a 409, an
// agent too old to know /v1/stage) only means the node is applied the ordinary way at its turn.
// Nothing is stored: a staged change lives in the agent's memory and expires there by itself, so a
// coordinator that restarts forgets what it staged and simply applies (or stages again).
import type { ChangeSpec } from '../../shared/change/schema.js'
import type { Clock } from '../../shared/clock.js'
import type { Logger } from '../../shared/logger.js'
import { AgentAnsweredError } from '../agents/agent-call-errors.js'
import type { AgentStagingClient } from '../ports/agent-client.js'
import type { NodeRef } from '../ports/node-ref.js'
import { errorText } from './error-text.js'

/** How long a discard may take before it is given up (the agent drops the change when it expires anyway). */
const DISCARD_TIMEOUT_MS = 5000

/**
 * How long a stage may take before it is given up and the node is applied the ordinary way at its
 * turn. A stage is a plan under the agent's lock (milliseconds; a large config's cold plan, tenths
 * of a second), and the node's turn waits for it: without its own bound an agent that went away
 * mid-stage would hold the turn for the HTTP client's whole request timeout (30 s).
 */
export const STAGE_TIMEOUT_MS = 10_000

/** What the stager reports per stage: the runner turns it into a `stage` event. */
export interface StageReport { node: string, revision: number, ok: boolean, ms: number, message: string, code?: string }

interface Entry {
  /** Resolves true when the stage succeeded (never rejects). */
  done: Promise<boolean>
  ok: boolean | undefined
  /** Set when the change is to be dropped once the stage call answers. */
  discard: boolean
}

/** The staged changes of one rollout, by node. */
export class Stager {
  readonly #entries = new Map<string, Entry>()
  readonly #tasks = new Set<Promise<unknown>>()

  constructor (
    private readonly client: AgentStagingClient,
    private readonly change: ChangeSpec,
    private readonly deps: { clock: Clock, log: Logger, signal: AbortSignal, report: (r: StageReport) => Promise<void>, stageTimeoutMs?: number }
  ) {}

  /** Stages the change on `node` in the background, unless it is staged or being staged already. */
  stage (node: NodeRef): void {
    if (this.#entries.has(node.name) || this.deps.signal.aborted) return
    const { clock } = this.deps
    const entry: Entry = { done: Promise.resolve(false), ok: undefined, discard: false }
    const t0 = clock.monotonic()
    const revision = this.change.revision
    entry.done = (async () => {
      try {
        const signal = AbortSignal.any([this.deps.signal, AbortSignal.timeout(this.deps.stageTimeoutMs ?? STAGE_TIMEOUT_MS)])
        await this.client.stage(node, this.change, { signal })
        entry.ok = true
      } catch (err) {
        entry.ok = false
        if (!this.deps.signal.aborted) {
          const code = err instanceof AgentAnsweredError ? err.agentCode : (err as { code?: unknown }).code
          await this.deps.report({ node: node.name, revision, ok: false, ms: Math.round(clock.monotonic() - t0), message: errorText(err), ...(typeof code === 'string' ? { code } : {}) })
        }
        return false
      }
      if (entry.discard) {
        this.#drop(node)
        return false
      }
      await this.deps.report({ node: node.name, revision, ok: true, ms: Math.round(clock.monotonic() - t0), message: `revision ${revision} staged` })
      return true
    })()
    this.#entries.set(node.name, entry)
    this.#track(entry.done)
  }

  /**
   * At `node`'s turn: true when a stage of this rollout's revision succeeded there, so the change
   * is to be committed rather than applied. Waits for a stage still in flight (it holds the node's
   * apply lock, so an apply sent meanwhile would be refused); the entry is used up either way.
   */
  async take (node: string): Promise<boolean> {
    const e = this.#entries.get(node)
    if (e === undefined) return false
    const ok = await e.done
    if (this.#entries.get(node) === e) this.#entries.delete(node)
    return ok && !e.discard
  }

  /** Whether `take(node)` will answer true; waits for a stage still in flight, uses nothing up. */
  async ready (node: string): Promise<boolean> {
    const e = this.#entries.get(node)
    return e !== undefined && await e.done && !e.discard
  }

  /**
   * Drops the staged change of each of `nodes` that has one, in the background (a stage still in
   * flight is dropped when it answers). Best effort: a discard that fails or is slow is given up,
   * the agent drops the change when it expires.
   */
  discard (nodes: readonly NodeRef[]): void {
    for (const node of nodes) {
      const e = this.#entries.get(node.name)
      if (e === undefined) continue
      this.#entries.delete(node.name)
      e.discard = true
      if (e.ok === true) this.#drop(node)
    }
  }

  /** Resolves when every stage and discard started so far has answered (tests; close). */
  async settled (): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks])
  }

  #drop (node: NodeRef): void {
    const signal = AbortSignal.any([this.deps.signal, AbortSignal.timeout(DISCARD_TIMEOUT_MS)])
    this.#track(this.client.discardStaged(node, { signal }).then(
      (revision) => { this.deps.log.debug({ node: node.name, revision }, 'staged change discarded') },
      (err: unknown) => { this.deps.log.debug({ err, node: node.name }, 'discarding a staged change failed; it expires on the agent') }
    ))
  }

  #track (p: Promise<unknown>): void {
    this.#tasks.add(p)
    p.finally(() => this.#tasks.delete(p)).catch(() => {})
  }
}

/** The client as an AgentStagingClient when it implements one (an AgentClient need not). */
export function stagingClientOf (client: object): AgentStagingClient | undefined {
  const c = client as Partial<AgentStagingClient>
  return typeof c.stage === 'function' && typeof c.commitStaged === 'function' && typeof c.discardStaged === 'function' ? client as AgentStagingClient : undefined
}
