// Node health for the fleet-wide views (GET /v1/clusters, /v1/nodes), reused for a few seconds.
// Asking every node costs three TLS calls per node (agent status and readiness, minkms ready):
// a dashboard polling a fleet of 1,000 nodes must not turn each view into 3,000 calls. So an
// answer is kept for `ttlMs` and served with its age; concurrent views that need a node share
// one probe of it (single flight); and at most `maxProbes` nodes are probed at once, so a view of
// the whole fleet holds a bounded number of connections and handshakes, not one per node. The
// rollout engine never reads from here: its gates ask live (engine/node-health.ts).
import type { NodeHealth } from '../shared/schemas/cluster.js'
import { nodeHealth, type HealthSources } from './cluster-health.js'
import type { NodeRef } from './ports/node-ref.js'

/** Options of {@link NodeHealthCache}. */
export interface NodeHealthCacheOptions {
  sources: HealthSources
  /** How long an answer is reused, ms (default {@link HEALTH_TTL_MS}; 0: every view asks). */
  ttlMs?: number
  /** Nodes probed at once (default {@link HEALTH_MAX_PROBES}). */
  maxProbes?: number
  /** Wall clock (ms since epoch); tests pass their own. */
  now?: () => number
}

/** Default reuse time of a node's health in the views. */
export const HEALTH_TTL_MS = 5_000
/** Default number of nodes probed at once. */
export const HEALTH_MAX_PROBES = 32

interface Answer { health: NodeHealth, checkedAt: number }

/** Node health with a short memory. Never rejects (a node that cannot be asked is an answer too). */
export class NodeHealthCache {
  readonly #sources: HealthSources
  readonly #ttlMs: number
  readonly #maxProbes: number
  readonly #now: () => number
  readonly #answers = new Map<string, Answer>()
  readonly #inFlight = new Map<string, Promise<Answer>>()
  readonly #waiting: Array<() => void> = []
  #probing = 0

  constructor (opts: NodeHealthCacheOptions) {
    this.#sources = opts.sources
    this.#ttlMs = opts.ttlMs ?? HEALTH_TTL_MS
    this.#maxProbes = Math.max(1, opts.maxProbes ?? HEALTH_MAX_PROBES)
    this.#now = opts.now ?? Date.now
  }

  /** `node`'s health, `checkedAt` (when it was asked) and `ageMs` (how old the answer is now). */
  async get (node: NodeRef): Promise<NodeHealth> {
    const key = `${node.cluster}\n${node.name}`
    const kept = this.#answers.get(key)
    const answer = kept !== undefined && this.#now() - kept.checkedAt < this.#ttlMs ? kept : await this.#probe(key, node)
    return { ...answer.health, checkedAt: answer.checkedAt, ageMs: Math.max(0, this.#now() - answer.checkedAt) }
  }

  /** Health of many nodes, in the given order. */
  async getMany (nodes: readonly NodeRef[]): Promise<NodeHealth[]> {
    return await Promise.all(nodes.map(async n => await this.get(n)))
  }

  /** Probes in flight now (for tests and metrics). */
  get probing (): number {
    return this.#probing
  }

  async #probe (key: string, node: NodeRef): Promise<Answer> {
    const running = this.#inFlight.get(key)
    if (running !== undefined) return await running
    const p = this.#slot(async () => {
      const checkedAt = this.#now()
      const answer = { health: await nodeHealth(node, this.#sources), checkedAt }
      this.#answers.set(key, answer)
      return answer
    }).finally(() => { this.#inFlight.delete(key) })
    this.#inFlight.set(key, p)
    return await p
  }

  // Runs `fn` once fewer than maxProbes probes run; the queue is first come, first served.
  async #slot<T> (fn: () => Promise<T>): Promise<T> {
    if (this.#probing >= this.#maxProbes) await new Promise<void>(resolve => { this.#waiting.push(resolve) })
    else this.#probing++
    try {
      return await fn()
    } finally {
      // A waiter inherits this slot (the count stays); otherwise the slot is freed.
      const nextUp = this.#waiting.shift()
      if (nextUp !== undefined) nextUp()
      else this.#probing--
    }
  }
}
