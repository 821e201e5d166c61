// The effect runner of one rollout: feeds inputs to the machine one at a time, stores the
// rollout it returns, and only then runs its effects through the ports. Effects run in the
// background and answer with the next input. Nothing is retried by re-sending an apply blindly:
// an apply whose answer was lost is looked up by revision in the agent's status first
// (step-recovery.ts), so a node restarts once per step even across coordinator crashes.
import type { ChangeSpec } from '../../shared/change/schema.js'
import type { Clock } from '../../shared/clock.js'
import type { Logger } from '../../shared/logger.js'
import type { ApplyEvent } from '../../shared/schemas/apply.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import type { NodeStep, Rollout, RolloutEventType } from '../../shared/schemas/rollout.js'
import { redactText } from '../../shared/secrets/redact-text.js'
import type { AgentClient } from '../ports/agent-client.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { RolloutStore } from '../store/rollout-store.js'
import type { KeyedLock } from './cluster-lock.js'
import { errorText } from './error-text.js'
import type { EventLog } from './event-log.js'
import { runGate } from './gate.js'
import type { ReadJournal } from '../gate/journal-reading.js'
import { transition, type MachineOptions, type Transition } from './machine.js'
import type { Effect, Input } from './machine-types.js'
import { firstUnhealthy } from './node-health.js'
import { recoverStep, rollbackNode } from './step-recovery.js'

/** What a runner needs; shared by every runner of an engine. */
export interface RunnerDeps {
  store: RolloutStore
  agents: AgentClient
  probe: ClusterProbe
  clock: Clock
  log: Logger
  events: EventLog
  /** Per-cluster lock shared with the boot slots. */
  clusterLock: KeyedLock
  readJournal: ReadJournal
  machine: MachineOptions
}

interface Follow { entries: JournalEntry[], cursor: string | undefined, ac: AbortController }

/** Runs one rollout until it finishes or the runner is closed. */
export class RolloutRunner {
  #rollout: Rollout
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false
  readonly #ac = new AbortController()
  readonly #tasks = new Set<Promise<void>>()
  readonly #follows = new Map<string, Follow>()
  readonly #finished: Promise<void>
  #onFinished: () => void = () => {}
  /** Set for a runner that continues a rollout a previous coordinator left (resumeAll). */
  resumed = false

  /**
   * @param change the change in wire form, opened from the store's sealed copy; kept in memory only
   * @param nodes the cluster's nodes in config order (the rollout's order)
   */
  constructor (rollout: Rollout, private readonly change: ChangeSpec, private readonly nodes: readonly NodeRef[], private readonly deps: RunnerDeps) {
    this.#rollout = rollout
    this.#finished = new Promise((resolve) => { this.#onFinished = resolve })
  }

  get rollout (): Rollout { return this.#rollout }
  get id (): string { return this.#rollout.id }
  /** Resolves when the rollout reached a terminal state. */
  get finished (): Promise<void> { return this.#finished }

  /**
   * Feeds `input` to the machine (after the inputs before it), stores the new rollout, stores its
   * events and audit entries, then starts its other effects. Resolves with the transition once
   * stored; a refused command changes nothing.
   */
  async dispatch (input: Input): Promise<Transition> {
    const run = async (): Promise<Transition> => {
      if (this.#closed) return { rollout: this.#rollout, effects: [], refused: 'the engine is closing' }
      const t = transition(this.#rollout, input, this.deps.clock.now(), this.deps.machine)
      if (t.refused !== undefined) return t
      if (t.rollout !== this.#rollout) {
        await this.deps.store.saveRollout(t.rollout)
        this.#rollout = t.rollout
      }
      for (const e of t.effects) {
        if (e.type === 'emit') await this.deps.events.append(this.id, e.event)
        else if (e.type === 'audit') {
          await this.deps.store.appendAudit({ at: this.deps.clock.now(), actor: e.actor, action: e.action, target: this.id, planHash: this.#rollout.planHash, detail: e.detail })
        } else this.#spawn(e)
      }
      return t
    }
    const p = this.#queue.then(run)
    this.#queue = p.catch(() => undefined)
    return await p
  }

  /** Stops everything in flight without changing the stored rollout (a restarted engine resumes it). */
  async close (): Promise<void> {
    this.#closed = true
    this.#ac.abort(new Error('the engine is closing'))
    for (const f of this.#follows.values()) f.ac.abort()
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks])
    await this.#queue
  }

  #spawn (e: Effect): void {
    const task = (async () => {
      try {
        const next = await this.#execute(e)
        if (next !== undefined && !this.#closed) await this.dispatch(next)
      } catch (err) {
        if (!this.#closed) this.deps.log.error({ err, rollout: this.id, effect: e.type }, 'rollout effect failed')
      }
    })()
    this.#tasks.add(task)
    task.finally(() => this.#tasks.delete(task)).catch(() => {})
  }

  async #execute (e: Effect): Promise<Input | undefined> {
    const signal = this.#ac.signal
    switch (e.type) {
      case 'prepare-step': return await this.#prepare(e.node)
      case 'apply': return await this.#apply(e.node)
      case 'recover-step':
        this.#follow(e.node)
        return await recoverStep(this.#ctx(e.node))
      case 'gate': return await this.#gate(e.node)
      case 'hold': return await this.#hold(e.node, e.ms)
      case 'rollback-node': {
        const r = await rollbackNode(this.#ctx(e.node), (a) => this.#applyEvent(e.node, a))
        return { type: 'node-rolled-back', node: e.node, ...r }
      }
      case 'stop-follow': this.#unfollow(e.node); return undefined
      case 'wait':
        await this.deps.clock.sleep(e.ms, signal)
        return e.then
      case 'finish':
        for (const n of [...this.#follows.keys()]) this.#unfollow(n)
        this.#onFinished()
        return undefined
      case 'emit': case 'audit': return undefined
    }
  }

  #ctx (node: string): Parameters<typeof recoverStep>[0] {
    return {
      node: this.#ref(node),
      revision: this.#rollout.revision,
      agents: this.deps.agents,
      clock: this.deps.clock,
      pollMs: this.deps.machine.pollMs,
      deadlineMs: this.#rollout.strategy.healthyDeadlineMs,
      signal: this.#ac.signal
    }
  }

  #ref (node: string): NodeRef {
    const ref = this.nodes.find((n) => n.name === node)
    if (ref === undefined) throw new Error(`node ${node} is not in cluster ${this.#rollout.cluster}`)
    return ref
  }

  #step (node: string): NodeStep {
    const s = this.#rollout.nodes.find((x) => x.node === node)
    if (s === undefined) throw new Error(`rollout ${this.id} has no step for ${node}`)
    return s
  }

  /** Stores an event; never rejects (a store failure is logged), so callers need not await it. */
  async #emit (type: RolloutEventType, message: string, node?: string, data?: unknown): Promise<void> {
    try {
      await this.deps.events.append(this.id, { at: this.deps.clock.now(), type, message, ...(node === undefined ? {} : { node }), ...(data === undefined ? {} : { data }) })
    } catch (err) {
      this.deps.log.error({ err, rollout: this.id }, 'storing a rollout event failed')
    }
  }

  #applyEvent (node: string, a: ApplyEvent): void {
    this.#emit('apply', `${node}: ${a.step} ${a.status}${a.message === undefined ? '' : `: ${a.message}`}`, node, a)
  }

  // The cluster gate before a node, the boot slots, then the baseline (InvocationID, cursor).
  // The slot check and the save of `applying` happen under the cluster lock: a slot cannot be
  // granted between them (slots.ts takes the same lock).
  async #prepare (node: string): Promise<Input | undefined> {
    const { agents, probe, store, clock } = this.deps
    const signal = this.#ac.signal
    const ref = this.#ref(node)
    // Nodes this rollout is changing right now (maxParallel > 1) are expected to be restarting.
    const busy = new Set(this.#rollout.nodes.filter((s) => s.state !== 'pending' && s.state !== 'done' && s.state !== 'skipped' && s.state !== 'failed' && s.state !== 'reverted').map((s) => s.node))
    // The node's baseline (InvocationID, journal cursor) is asked together with the cluster gate:
    // only reads, all before the apply, and thrown away when the gate blocks; one round trip to
    // the agents instead of three between two nodes.
    const [bad, baseline] = await Promise.all([
      firstUnhealthy(agents, probe, this.nodes.filter((n) => !busy.has(n.name)), signal),
      Promise.all([agents.status(ref, { signal }), agents.journalCursor(ref, { signal })]).then(
        ([status, cursor]) => ({ ok: true as const, status, cursor }),
        (err: unknown) => ({ ok: false as const, err }))
    ])
    if (bad !== undefined) return { type: 'blocked', node, reason: 'unhealthy', message: bad.message }
    if (!baseline.ok) {
      signal.throwIfAborted()
      return { type: 'blocked', node, reason: 'unhealthy', message: `${node}: its agent cannot be asked: ${errorText(baseline.err)}` }
    }
    const invocationBefore = baseline.status.unit.status?.invocationId === '' ? undefined : baseline.status.unit.status?.invocationId
    const cursor = baseline.cursor
    return await this.deps.clusterLock.run(this.#rollout.cluster, async () => {
      const open = await store.openSlots(this.#rollout.cluster, clock.now())
      const slot = open[0]
      if (slot !== undefined) return { type: 'blocked', node, reason: 'slot', message: `${slot.node} holds a boot slot (converging revision ${slot.revision}) until it is released or expires` } satisfies Input
      await this.dispatch({ type: 'step-prepared', node, ...(cursor === undefined ? {} : { cursor }), ...(invocationBefore === undefined ? {} : { invocationBefore }) })
      return undefined
    })
  }

  async #apply (node: string): Promise<Input> {
    this.#follow(node)
    try {
      const r = await this.deps.agents.apply(this.#ref(node), this.change, { signal: this.#ac.signal, onEvent: (a) => this.#applyEvent(node, a) })
      return { type: 'step-applied', node, outcome: r }
    } catch (err) {
      this.#ac.signal.throwIfAborted()
      return { type: 'apply-error', node, message: errorText(err) }
    }
  }

  async #gate (node: string): Promise<Input> {
    this.#follow(node)
    const step = this.#step(node)
    const gate = await runGate({
      node: this.#ref(node),
      cluster: this.nodes,
      step,
      deadline: (step.startedAt ?? this.deps.clock.now()) + this.#rollout.strategy.healthyDeadlineMs,
      entries: () => this.#follows.get(node)?.entries ?? [],
      readJournal: this.deps.readJournal,
      probe: this.deps.probe,
      clock: this.deps.clock,
      pollMs: this.deps.machine.pollMs,
      ...(this.#rollout.expectHsm === undefined ? {} : { expectHsm: this.#rollout.expectHsm }),
      signal: this.#ac.signal,
      report: async (check, part, ok, message) => { await this.#emit('gate', `${node}: gate ${ok ? 'passed' : 'failed'}: ${message}`, node, { check, ...(part as object) }) }
    })
    return { type: 'gate-result', node, gate }
  }

  async #hold (node: string, ms: number): Promise<Input> {
    await this.deps.clock.sleep(ms, this.#ac.signal)
    const ref = this.#ref(node)
    // Both asked at once; the answers are read agent first, so the message is the one asking in
    // turn would give.
    const [agent, minkms] = await Promise.allSettled([this.deps.agents.ready(ref, { signal: this.#ac.signal }), this.deps.probe.ready(ref, { signal: this.#ac.signal })])
    const failed = (reason: unknown): Input => {
      this.#ac.signal.throwIfAborted()
      return { type: 'min-healthy-elapsed', node, ok: false, message: errorText(reason) }
    }
    if (agent.status === 'rejected') return failed(agent.reason)
    if (!agent.value) return { type: 'min-healthy-elapsed', node, ok: false, message: 'its agent is not ready' }
    if (minkms.status === 'rejected') return failed(minkms.reason)
    if (!minkms.value) return { type: 'min-healthy-elapsed', node, ok: false, message: 'minkms is not ready' }
    return { type: 'min-healthy-elapsed', node, ok: true, message: 'still ready' }
  }

  // Follows the node's journal from the step's cursor, in the background, reconnecting after a
  // break from the last entry seen; every entry becomes a `journal` event as it arrives.
  #follow (node: string): void {
    if (this.#follows.has(node) || this.#closed) return
    const f: Follow = { entries: [], cursor: this.#step(node).cursor, ac: new AbortController() }
    this.#follows.set(node, f)
    const ref = this.#ref(node)
    const task = (async () => {
      // A resumed runner reads the journal again from the step's cursor (the gate needs every
      // entry); the lines a previous coordinator already stored are not stored twice.
      const stored = await this.#storedJournalCursors(node)
      while (!f.ac.signal.aborted) {
        try {
          await this.deps.agents.followJournal(ref, {
            ...(f.cursor === undefined ? {} : { after: f.cursor }),
            signal: f.ac.signal,
            onEntry: (e) => {
              f.entries.push(e)
              f.cursor = e.cursor
              if (stored.has(e.cursor)) return
              this.#emit('journal', `${node}: ${redactText(e.message, [])}`, node, { cursor: e.cursor, realtimeUs: e.realtimeUs, invocationId: e.invocationId, priority: e.priority })
            }
          })
        } catch (err) {
          if (f.ac.signal.aborted) break
          this.deps.log.debug({ err, node }, 'journal follow broke; reconnecting')
        }
        if (f.ac.signal.aborted) break
        await this.deps.clock.sleep(this.deps.machine.pollMs, f.ac.signal).catch(() => undefined)
      }
    })()
    this.#tasks.add(task)
    task.finally(() => this.#tasks.delete(task)).catch(() => {})
  }

  async #storedJournalCursors (node: string): Promise<Set<string>> {
    const seen = new Set<string>()
    if (!this.resumed) return seen
    try {
      for (let from = 0; ;) {
        const page = await this.deps.store.events(this.id, { from, limit: 1000 })
        for (const e of page) {
          const cursor = (e.data as { cursor?: unknown } | undefined)?.cursor
          if (e.type === 'journal' && e.node === node && typeof cursor === 'string') seen.add(cursor)
        }
        if (page.length < 1000) break
        from += page.length
      }
    } catch (err) {
      this.deps.log.warn({ err, rollout: this.id }, 'reading the stored journal lines failed; some may be stored twice')
    }
    return seen
  }

  #unfollow (node: string): void {
    this.#follows.get(node)?.ac.abort()
    this.#follows.delete(node)
  }
}
