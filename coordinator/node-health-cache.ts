// Node health for the fleet-wide views (GET /v1/clusters, /v1/nodes), served stale while it is
// refreshed. Asking every node costs three TLS calls per node (agent status and readiness, minkms
// ready): a dashboard polling a fleet of 1,000 nodes must not turn each view into 3,000 calls, nor
// wait for them. So:
// - an answer younger than `ttlMs` is served as it is;
// - an older one is still served at once, with its `checkedAt`/`ageMs`, and starts one refresh of
//   that node in the background: a view never waits for a node it already has an answer for…
// - …unless that answer is `maxStaleMs` old or more: then the view waits for a fresh one, as it
//   does for a node never asked yet. That is the bound on how stale a view can be.
// Views that need a node at the same time share one probe of it (single flight), and at most
// `maxProbes` nodes are probed at once, so a view of the whole fleet holds a bounded number of
// connections and handshakes. Probes a view waits for go before background refreshes.
// An answer asked before keyroll last changed the node (a rollout step there started or ended) is
// not served at all: the view waits for a fresh one, so it never shows the revision a rollout just
// replaced. Nothing is asked while nobody looks: there is no timer, refreshes come from the views. The
// rollout engine never reads from here: its gates ask live (engine/node-health.ts).
import type { NodeHealth } from '../shared/schemas/cluster.js'
import { nodeHealth, type HealthSources } from './cluster-health.js'
import type { NodeRef } from './ports/node-ref.js'

/** Options of {@link NodeHealthCache}. */
export interface NodeHealthCacheOptions {
  sources: HealthSources
  /** Age after which a view that gets an answer also refreshes it, ms (default {@link HEALTH_TTL_MS}). */
  ttlMs?: number
  /**
   * Age from which an answer is not served: the view waits for a fresh one, ms (default
   * {@link HEALTH_MAX_STALE_MS}; at least `ttlMs`; `ttlMs` and this 0: every view asks and waits).
   */
  maxStaleMs?: number
  /** Nodes probed at once (default {@link HEALTH_MAX_PROBES}). */
  maxProbes?: number
  /**
   * The configured nodes (a new array when the configuration changes): answers of other nodes are
   * dropped and not kept. Without it every answer is kept.
   */
  configured?: () => readonly NodeRef[]
  /** Wall clock (ms since epoch); tests pass their own. */
  now?: () => number
}

/** Default age after which a node's answer is refreshed behind the view. */
export const HEALTH_TTL_MS = 5_000
/** Default age from which a view waits for a fresh answer instead of serving the one it has. */
export const HEALTH_MAX_STALE_MS = 60_000
/** Default number of nodes probed at once. */
export const HEALTH_MAX_PROBES = 32

interface Answer { health: NodeHealth, checkedAt: number }

// A probe's place in the queue. `urgent`: a view waits for it. A queued background refresh that a
// view comes to wait for is promoted (queued again as urgent; `started` makes the copy left
// behind a no-op when it comes up).
interface Ticket { go: () => void, urgent: boolean, started: boolean }
interface Flight { answer: Promise<Answer>, ticket: Ticket }

const keyOf = (n: NodeRef): string => `${n.cluster}\n${n.name}`

/** Node health with a memory. Never rejects (a node that cannot be asked is an answer too). */
export class NodeHealthCache {
  readonly #sources: HealthSources
  readonly #ttlMs: number
  readonly #maxStaleMs: number
  readonly #maxProbes: number
  readonly #configured: (() => readonly NodeRef[]) | undefined
  readonly #now: () => number
  readonly #answers = new Map<string, Answer>()
  readonly #inFlight = new Map<string, Flight>()
  readonly #urgent: Ticket[] = []
  readonly #background: Ticket[] = []
  #probing = 0
  #configuredList: readonly NodeRef[] | undefined
  #configuredKeys: Set<string> | undefined

  constructor (opts: NodeHealthCacheOptions) {
    this.#sources = opts.sources
    this.#ttlMs = Math.max(0, opts.ttlMs ?? HEALTH_TTL_MS)
    this.#maxStaleMs = Math.max(this.#ttlMs, opts.maxStaleMs ?? HEALTH_MAX_STALE_MS)
    this.#maxProbes = Math.max(1, opts.maxProbes ?? HEALTH_MAX_PROBES)
    this.#configured = opts.configured
    this.#now = opts.now ?? Date.now
  }

  /**
   * `node`'s health, `checkedAt` (when it was asked) and `ageMs` (how old the answer is now).
   * `changedAt`: when keyroll last changed the node (a rollout step started or ended there); an
   * answer asked before it is not served but waited for afresh, so a view read after a rollout
   * shows what the rollout did, not the revision before it.
   */
  async get (node: NodeRef, changedAt?: number): Promise<NodeHealth> {
    const key = keyOf(node)
    this.#prune()
    const kept = this.#answers.get(key)
    const age = kept === undefined ? Infinity : this.#now() - kept.checkedAt
    let answer: Answer
    if (kept === undefined || age >= this.#maxStaleMs || (changedAt !== undefined && kept.checkedAt < changedAt)) {
      answer = await this.#refresh(key, node, true)
    } else {
      // A refresh never rejects (nodeHealth does not); the catch only keeps a bug from becoming
      // an unhandled rejection that would end the process.
      if (age >= this.#ttlMs) this.#refresh(key, node, false).catch(() => {})
      answer = kept
    }
    return { ...answer.health, checkedAt: answer.checkedAt, ageMs: Math.max(0, this.#now() - answer.checkedAt) }
  }

  /** Health of many nodes, in the given order (`changedAt` as for {@link get}, per node). */
  async getMany (nodes: readonly NodeRef[], changedAt?: (node: NodeRef) => number | undefined): Promise<NodeHealth[]> {
    return await Promise.all(nodes.map(async n => await this.get(n, changedAt?.(n))))
  }

  /** Probes running now (for tests and metrics). */
  get probing (): number {
    return this.#probing
  }

  /** Nodes with a probe running or queued, a view waiting or not (for tests and metrics). */
  get refreshing (): number {
    return this.#inFlight.size
  }

  /** Nodes with a kept answer (for tests and metrics). */
  get size (): number {
    return this.#answers.size
  }

  // One probe per node at a time: a second caller shares the running one (and promotes it when it
  // must wait for it).
  async #refresh (key: string, node: NodeRef, urgent: boolean): Promise<Answer> {
    const running = this.#inFlight.get(key)
    if (running !== undefined) {
      if (urgent) this.#promote(running.ticket)
      return await running.answer
    }
    const ticket: Ticket = { go: () => {}, urgent, started: false }
    const answer = this.#slot(ticket, async () => {
      const checkedAt = this.#now()
      const a = { health: await nodeHealth(node, this.#sources), checkedAt }
      if (this.#keeps(key)) this.#answers.set(key, a)
      return a
    }).finally(() => { this.#inFlight.delete(key) })
    this.#inFlight.set(key, { answer, ticket })
    return await answer
  }

  #promote (ticket: Ticket): void {
    if (ticket.urgent || ticket.started) return
    const copy: Ticket = { go: ticket.go, urgent: true, started: false }
    // The background copy stays queued but will be skipped; the urgent copy starts it.
    ticket.started = true
    ticket.urgent = true
    this.#urgent.push(copy)
  }

  // Runs `fn` once fewer than maxProbes probes run; urgent tickets first, each queue first come,
  // first served.
  async #slot<T> (ticket: Ticket, fn: () => Promise<T>): Promise<T> {
    if (this.#probing >= this.#maxProbes) {
      await new Promise<void>(resolve => {
        ticket.go = resolve
        ;(ticket.urgent ? this.#urgent : this.#background).push(ticket)
      })
    } else {
      ticket.started = true
      this.#probing++
    }
    try {
      return await fn()
    } finally {
      // A waiter inherits this slot (the count stays); otherwise the slot is freed.
      const nextUp = this.#nextTicket()
      if (nextUp !== undefined) nextUp.go()
      else this.#probing--
    }
  }

  #nextTicket (): Ticket | undefined {
    for (const queue of [this.#urgent, this.#background]) {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
        if (t.started) continue
        t.started = true
        return t
      }
    }
    return undefined
  }

  // Whether an answer of `key` is kept: every one without `configured`, else the configured nodes'.
  #keeps (key: string): boolean {
    this.#prune()
    return this.#configuredKeys === undefined || this.#configuredKeys.has(key)
  }

  // When the configured list is a new one, drops the answers of nodes no longer in it.
  #prune (): void {
    if (this.#configured === undefined) return
    const list = this.#configured()
    if (list === this.#configuredList) return
    this.#configuredList = list
    this.#configuredKeys = new Set(list.map(keyOf))
    for (const key of this.#answers.keys()) if (!this.#configuredKeys.has(key)) this.#answers.delete(key)
  }
}
