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
import { isAgentError } from '../agents/agent-call-errors.js'
import type { AgentClient, AgentStagingClient } from '../ports/agent-client.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { RolloutStore } from '../store/rollout-store.js'
import type { KeyedLock } from './cluster-lock.js'
import { errorText } from './error-text.js'
import type { EventLog } from './event-log.js'
import { runGate } from './gate.js'
import type { ReadJournal } from '../gate/journal-reading.js'
import { isTerminal, transition, type MachineOptions, type Transition } from './machine.js'
import type { Effect, Input } from './machine-types.js'
import { agentReadiness, judgeNode, readNode, type NodeReading } from './node-health.js'
import { Stager, type StageReport } from './stager.js'
import { recoverStep, rollbackNode } from './step-recovery.js'

/** What a runner needs; shared by every runner of an engine. */
export interface RunnerDeps {
  store: RolloutStore
  agents: AgentClient
  /** Stages the next node's change while the current one restarts (stager.ts); none: every node is applied. */
  staging?: AgentStagingClient
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

/**
 * The reads a node's preparation needs, asked in one burst: every checked node's agent status and
 * minkms readiness (the cluster gate; the node's own status is also its baseline) and the node's
 * journal cursor. Never rejects.
 */
interface PrepareReads { readings: NodeReading[], cursor: PromiseSettledResult<string | undefined> }

/**
 * Reads for `node` started at the end of the hold before it (see #hold); handed with that hold's
 * answer to the prepare-step effect of the same transition, and to nothing else.
 */
interface Prefetch { node: string, reads: Promise<PrepareReads> }

/** What an effect answers: the next input, with reads started for the step it may schedule. */
type Next = Input | { input: Input, prefetch: Prefetch } | undefined

/** Runs one rollout until it finishes or the runner is closed. */
export class RolloutRunner {
  #rollout: Rollout
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false
  readonly #ac = new AbortController()
  readonly #tasks = new Set<Promise<void>>()
  readonly #follows = new Map<string, Follow>()
  readonly #finished: Promise<void>
  readonly #stager: Stager | undefined
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
    this.#stager = deps.staging === undefined || rollout.strategy.stageNext === false
      ? undefined
      : new Stager(deps.staging, change, { clock: deps.clock, log: deps.log, signal: this.#ac.signal, report: async (r) => { await this.#stageEvent(r) } })
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
  async dispatch (input: Input, prefetch?: Prefetch): Promise<Transition> {
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
        } else this.#spawn(e, e.type === 'prepare-step' && e.node === prefetch?.node ? prefetch : undefined)
      }
      if (this.#rollout.state !== 'running' || this.#rollout.stop !== undefined) this.#discardStaged()
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
    await this.#stager?.settled()
    await this.#queue
  }

  #spawn (e: Effect, prefetch?: Prefetch): void {
    const task = (async () => {
      try {
        const next = await this.#execute(e, prefetch)
        if (next !== undefined && !this.#closed) {
          if ('prefetch' in next) await this.dispatch(next.input, next.prefetch)
          else await this.dispatch(next)
        }
      } catch (err) {
        if (!this.#closed) this.deps.log.error({ err, rollout: this.id, effect: e.type }, 'rollout effect failed')
      }
    })()
    this.#tasks.add(task)
    task.finally(() => this.#tasks.delete(task)).catch(() => {})
  }

  async #execute (e: Effect, prefetch?: Prefetch): Promise<Next> {
    const signal = this.#ac.signal
    switch (e.type) {
      case 'prepare-step': return await this.#prepare(e.node, prefetch?.reads)
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
  // granted between them (slots.ts takes the same lock). `prefetched`: the reads, started when
  // the node before this one finished its hold (#hold), so no older than that hold's own check.
  async #prepare (node: string, prefetched?: Promise<PrepareReads>): Promise<Input | undefined> {
    const { store, clock } = this.deps
    const signal = this.#ac.signal
    const t0 = clock.monotonic()
    // From the transition that scheduled this preparation (it set startedAt) to here: storing it.
    const scheduledMs = Math.max(0, clock.now() - (this.#step(node).startedAt ?? clock.now()))
    // Nodes this rollout is changing right now (maxParallel > 1) are expected to be restarting.
    const busy = new Set(this.#rollout.nodes.filter((s) => s.state !== 'pending' && s.state !== 'done' && s.state !== 'skipped' && s.state !== 'failed' && s.state !== 'reverted').map((s) => s.node))
    // A stage of this node still in flight is waited for with the reads: it holds the node's
    // apply lock, and it decides whether the change is committed or applied.
    const [reads, staged] = await Promise.all([prefetched ?? this.#prepareReads(node, busy), this.#stager?.ready(node) ?? false])
    const tReads = clock.monotonic()
    const bad = reads.readings.map(judgeNode).find((v) => !v.healthy)
    if (bad !== undefined) return { type: 'blocked', node, reason: 'unhealthy', message: bad.message }
    // The node's status from the gate's own reading is its baseline: one question, one answer.
    const mine = reads.readings.find((r) => r.node.name === node)?.status ?? await this.deps.agents.status(this.#ref(node), { signal }).then(
      (value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason }))
    const failed = mine.status === 'rejected' ? mine.reason : reads.cursor.status === 'rejected' ? reads.cursor.reason : undefined
    if (mine.status === 'rejected' || reads.cursor.status === 'rejected') {
      signal.throwIfAborted()
      return { type: 'blocked', node, reason: 'unhealthy', message: `${node}: its agent cannot be asked: ${errorText(failed)}` }
    }
    const invocationBefore = mine.value.unit.status?.invocationId === '' ? undefined : mine.value.unit.status?.invocationId
    const cursor = reads.cursor.value
    return await this.deps.clusterLock.run(this.#rollout.cluster, async () => {
      const tLocked = clock.monotonic()
      const open = await store.openSlots(this.#rollout.cluster, clock.now())
      const slot = open[0]
      if (slot !== undefined) return { type: 'blocked', node, reason: 'slot', message: `${slot.node} holds a boot slot (converging revision ${slot.revision}) until it is released or expires` } satisfies Input
      const timings = {
        scheduledMs,
        readsMs: Math.round(tReads - t0),
        prefetched: prefetched === undefined ? 0 : 1,
        lockMs: Math.round(tLocked - tReads),
        slotsMs: Math.round(clock.monotonic() - tLocked)
      }
      this.deps.log.debug({ rollout: this.id, node, ...timings }, 'step prepared')
      await this.dispatch({ type: 'step-prepared', node, ...(cursor === undefined ? {} : { cursor }), ...(invocationBefore === undefined ? {} : { invocationBefore }), timings, via: staged ? 'staged' : 'apply' })
      return undefined
    })
  }

  /** The cluster gate's readings of every node not in `busy`, and `node`'s journal cursor, at once. */
  async #prepareReads (node: string, busy: ReadonlySet<string>): Promise<PrepareReads> {
    const { agents, probe } = this.deps
    const signal = this.#ac.signal
    const [readings, cursor] = await Promise.all([
      Promise.all(this.nodes.filter((n) => !busy.has(n.name)).map(async (n) => await readNode(agents, probe, n, signal))),
      agents.journalCursor(this.#ref(node), { signal }).then(
        (value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason }))
    ])
    return { readings, cursor }
  }

  /**
   * The step the machine will prepare once `node` is done, when it is the only one in flight:
   * the first pending step, unless the rollout is stopping, paused, or `node` is the canary (the
   * rollout then waits for a promotion). A wrong guess costs reads only: a prefetch is used by
   * the prepare-step of the transition that takes the hold's answer, and by nothing else.
   */
  #nextAfter (node: string): string | undefined {
    const r = this.#rollout
    if (r.state !== 'running' || r.stop !== undefined) return undefined
    if (r.strategy.canary && !r.nodes.some((s) => s.state === 'done')) return undefined
    const others = r.nodes.filter((s) => s.node !== node && s.state !== 'done' && s.state !== 'skipped' && s.state !== 'failed' && s.state !== 'reverted')
    if (others.some((s) => s.state !== 'pending' || s.startedAt !== undefined)) return undefined
    return others[0]?.node
  }

  // Sends the node's change: the change staged on its agent when a stage of this revision
  // succeeded there, else the change whole. The step got here through the same preparation either
  // way (cluster gate with its drift check, boot slots, baseline): a staged change skips no check
  // of the engine. Nor can it be stale: the agent compares the managed files' hashes and its
  // applied revision with those it planned on, and refuses a commit when either changed
  // (AGT_STAGED_STALE), as it does when nothing (or another revision) is staged (AGT_NOT_STAGED:
  // the agent restarted, the change expired or was discarded); then the change is applied once the
  // ordinary way. Any other error of the commit is one of an apply: the recovery asks the agent's
  // status by revision, as after a broken apply.
  async #apply (node: string): Promise<Input> {
    this.#follow(node)
    const ref = this.#ref(node)
    const signal = this.#ac.signal
    const onEvent = (a: ApplyEvent): void => {
      this.#applyEvent(node, a)
      // The node restarts: the next node's change is staged meanwhile.
      if (a.step === 'restart') this.#stageNext()
    }
    try {
      const staging = this.deps.staging
      if (staging !== undefined && this.#stager !== undefined && await this.#stager.take(node)) {
        try {
          const r = await staging.commitStaged(ref, this.#rollout.revision, { signal, onEvent })
          this.#stageNext()
          return { type: 'step-applied', node, outcome: r }
        } catch (err) {
          if (!isAgentError(err, 'AGT_NOT_STAGED', 'AGT_STAGED_STALE')) throw err
          signal.throwIfAborted()
          const why = err.agentCode === 'AGT_STAGED_STALE' ? 'its files or applied revision changed since it was staged' : 'the agent no longer holds it (restarted, expired or discarded)'
          await this.#emit('info', `${node}: the staged change was not committed: ${why} (${err.agentCode}); applying revision ${this.#rollout.revision} the ordinary way`, node, { code: err.agentCode, via: 'apply' })
        }
      }
      const r = await this.deps.agents.apply(ref, this.change, { signal, onEvent })
      this.#stageNext()
      return { type: 'step-applied', node, outcome: r }
    } catch (err) {
      signal.throwIfAborted()
      // A refusal of the change itself (an older or conflicting revision, a change that would make
      // invalid files, a unit that cannot restart: 4xx, "nothing was written") fails the step.
      // Only "another change is in progress" and failures without an answer go to the recovery,
      // which asks the agent what became of the revision and sends it again if it never ran.
      if (isAgentError(err) && err.agentStatus >= 400 && err.agentStatus < 500 && err.agentCode !== 'AGT_CHANGE_CONFLICT') {
        return { type: 'apply-refused', node, message: `${err.agentCode}: ${err.agentMessage}` }
      }
      return { type: 'apply-error', node, message: errorText(err) }
    }
  }

  /**
   * Stages the change on the node(s) that start next (up to maxParallel of the pending ones, in
   * order), in the background; each is staged once per runner. Only while the rollout runs on by
   * itself: not when paused or stopping, and not past a canary before its promotion.
   */
  #stageNext (): void {
    const r = this.#rollout
    if (this.#stager === undefined || this.#closed || r.state !== 'running' || r.stop !== undefined) return
    if (r.strategy.canary && !r.nodes.some((s) => s.state === 'done')) return
    const waiting = r.nodes.filter((s) => s.state === 'pending' && s.startedAt === undefined).slice(0, r.strategy.maxParallel)
    for (const s of waiting) {
      const ref = this.nodes.find((n) => n.name === s.node)
      if (ref !== undefined) this.#stager.stage(ref)
    }
  }

  /** Drops the staged changes of the nodes not started (pending or skipped): paused, stopping, ended. */
  #discardStaged (): void {
    if (this.#stager === undefined) return
    const idle = new Set(this.#rollout.nodes.filter((s) => s.state === 'skipped' || (s.state === 'pending' && s.startedAt === undefined)).map((s) => s.node))
    this.#stager.discard(this.nodes.filter((n) => idle.has(n.name)))
  }

  // A `stage` event per stage; none once the rollout ended (its events end with the terminal one).
  async #stageEvent (r: StageReport): Promise<void> {
    if (isTerminal(this.#rollout.state)) return
    const message = r.ok
      ? `${r.node}: revision ${r.revision} staged in ${r.ms} ms; committed at its turn`
      : `${r.node}: revision ${r.revision} not staged (${r.message}); applied the ordinary way at its turn`
    await this.#emit('stage', message, r.node, { revision: r.revision, ok: r.ok, ms: r.ms, ...(r.code === undefined ? {} : { code: r.code }) })
  }

  async #gate (node: string): Promise<Input> {
    this.#follow(node)
    // At the latest now (a resumed runner starts here): the next node's change is staged.
    this.#stageNext()
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

  // After minHealthyTime, the node's agent and minkms are asked again. When the next node would be
  // prepared right after, its reads (the whole cluster gate, this node included, and its journal
  // cursor) go out now in the same burst: the hold's answer is this node's reading from it, and
  // the prepare-step that follows uses the rest. They are reads only, taken after the hold, as
  // fresh as the hold's own check; `done` is still stored before the next node's `applying`.
  async #hold (node: string, ms: number): Promise<Next> {
    this.#stageNext()
    await this.deps.clock.sleep(ms, this.#ac.signal)
    const ref = this.#ref(node)
    const next = this.#nextAfter(node)
    const reads = next === undefined ? undefined : this.#prepareReads(next, new Set())
    const reading = (await reads)?.readings.find((r) => r.node.name === node) ?? await readNode(this.deps.agents, this.deps.probe, ref, this.#ac.signal)
    const answer = this.#holdAnswer(node, reading)
    return reads === undefined || next === undefined ? answer : { input: answer, prefetch: { node: next, reads } }
  }

  // The agent's answer is read first, so the message is the one asking in turn would give.
  #holdAnswer (node: string, r: NodeReading): Input {
    const failed = (reason: unknown): Input => {
      this.#ac.signal.throwIfAborted()
      return { type: 'min-healthy-elapsed', node, ok: false, message: errorText(reason) }
    }
    if (r.status.status === 'rejected') return failed(r.status.reason)
    const agent = agentReadiness(r.status.value)
    if (!agent.ready) return { type: 'min-healthy-elapsed', node, ok: false, message: agent.message }
    if (r.minkms.status === 'rejected') return failed(r.minkms.reason)
    if (!r.minkms.value) return { type: 'min-healthy-elapsed', node, ok: false, message: 'minkms is not ready' }
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
