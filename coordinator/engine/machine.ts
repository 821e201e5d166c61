// The rollout state machine: (rollout, input, now) → (rollout, effects). Pure: no I/O, no clock,
// no randomness, so every rule below is pinned by table tests (test/unit/coordinator/engine/
// machine.test.ts) and the runner (runner.ts) is the only part that talks to agents.
//
// The rollout it returns is what the runner stores before it runs any of the effects, so every
// state a crash can leave behind is one this machine wrote, and `resumed` knows what to do with
// each (see README.md, "Crash safety").
//
// Step life: pending → (startedAt set: being prepared) → applying → gating → healthy → done;
// failures: failed (the agent rolled back by itself, or the gate failed and the node was rolled
// back), reverting → reverted (a done node rolled back by auto-revert or an operator's rollback),
// skipped (never touched). A pending step with `startedAt` is "being prepared": it counts against
// maxParallel, so a slow prepare never lets a second node start.
import type { GateResult, NodeStep, Rollout, RolloutEventType, RolloutState, StepState } from '../../shared/schemas/rollout.js'
import { TERMINAL_ROLLOUT_STATES } from '../../shared/schemas/rollout.js'
import type { Effect, Input, StepOutcome } from './machine-types.js'
import { agentAnswerText } from './error-text.js'

/** The machine's answer. `refused` is set (and nothing changed) when a command does not fit the state. */
export interface Transition {
  rollout: Rollout
  effects: Effect[]
  refused?: string
}

/** Tuning that is not part of a rollout's strategy. */
export interface MachineOptions {
  /** How long a blocked step waits before it checks again. */
  pollMs: number
}

export const MACHINE_DEFAULTS: MachineOptions = { pollMs: 2000 }

const IN_FLIGHT: readonly StepState[] = ['applying', 'gating', 'healthy', 'reverting']

/** True for succeeded, failed, aborted, reverted. */
export function isTerminal (state: RolloutState): boolean {
  return TERMINAL_ROLLOUT_STATES.includes(state)
}

/** Applies `input` to `rollout` at wall-clock `now`. The input rollout is never modified. */
export function transition (rollout: Rollout, input: Input, now: number, opts: MachineOptions = MACHINE_DEFAULTS): Transition {
  const d = new Draft(rollout, now, opts)
  if (isTerminal(rollout.state) && input.type !== 'rollback') return d.refuse(`rollout ${rollout.id} is ${rollout.state}`)
  switch (input.type) {
    case 'start':
      if (rollout.state !== 'pending') return d.refuse(`rollout ${rollout.id} already started`)
      d.setState('running', `started by ${input.actor}`)
      break
    case 'resumed': resumed(d); break
    case 'pause':
      if (rollout.state === 'paused') return d.result()
      if (rollout.state !== 'running' || rollout.stop !== undefined) return d.refuse(`rollout ${rollout.id} is ${stateWord(rollout)}; only a running rollout can be paused`)
      d.setState('paused', `paused by ${input.actor}; steps in flight finish, no node starts`)
      d.audit('rollout.pause', input.actor)
      break
    case 'resume':
      if (rollout.state === 'running') return d.result()
      if (rollout.state !== 'paused') return d.refuse(`rollout ${rollout.id} is ${stateWord(rollout)}; only a paused rollout can be resumed`)
      d.setState('running', `resumed by ${input.actor}`)
      d.audit('rollout.resume', input.actor)
      break
    case 'promote':
      if (rollout.state !== 'awaiting-promotion') return d.refuse(`rollout ${rollout.id} is ${stateWord(rollout)}; only a canary awaiting promotion can be promoted`)
      d.setState('running', `promoted by ${input.actor}`)
      d.audit('rollout.promote', input.actor)
      break
    case 'abort':
      if (rollout.state === 'reverting') return d.refuse(`rollout ${rollout.id} is reverting; wait for it to finish`)
      if (rollout.stop?.kind === 'abort') return d.result()
      d.stop('abort', `aborted by ${input.actor}`, input.actor)
      d.audit('rollout.abort', input.actor)
      break
    case 'rollback':
      if (rollout.state === 'reverting' || rollout.state === 'reverted' || rollout.state === 'pending') return d.refuse(`rollout ${rollout.id} is ${rollout.state}; nothing to roll back`)
      d.skipPending('not started: the rollout is being rolled back')
      d.setState('reverting', `rollback requested by ${input.actor}: every node this rollout changed goes back to its previous revision, one at a time`)
      d.audit('rollout.rollback', input.actor)
      break
    default: stepInput(d, input)
  }
  schedule(d)
  return d.result()
}

function stateWord (r: Rollout): string {
  return r.stop === undefined ? r.state : `${r.state} (stopping: ${r.stop.message})`
}

// After a crash: every step in flight gets the effect that finds out or finishes what it was doing.
function resumed (d: Draft): void {
  d.emit('info', 'the coordinator restarted; resuming the rollout from its stored state')
  if (d.r.state === 'pending') d.setState('running', 'started')
  for (const s of d.r.nodes) {
    if (s.state === 'pending' && s.startedAt !== undefined) d.effect({ type: 'prepare-step', node: s.node })
    else if (s.state === 'applying') d.effect({ type: 'recover-step', node: s.node })
    else if (s.state === 'gating') d.effect({ type: 'gate', node: s.node })
    else if (s.state === 'healthy') d.effect({ type: 'hold', node: s.node, ms: d.r.strategy.minHealthyTimeMs })
    else if (s.state === 'reverting') d.effect({ type: 'rollback-node', node: s.node })
  }
}

type StepInput = Exclude<Input, { type: 'start' | 'resumed' | 'pause' | 'resume' | 'abort' | 'promote' | 'rollback' }>

function stepInput (d: Draft, input: StepInput): void {
  const s = d.step(input.node)
  if (s === undefined) return
  const mayStart = s.state === 'pending' && s.startedAt !== undefined && d.r.state === 'running' && d.r.stop === undefined
  switch (input.type) {
    case 'retry-prepare':
      if (mayStart) d.effect({ type: 'prepare-step', node: s.node })
      return
    case 'step-prepared':
      if (!mayStart) {
        // Paused, stopped or skipped while it was being prepared: it starts again from scratch.
        if (s.state === 'pending' && s.startedAt !== undefined) d.patchStep(s, { startedAt: undefined })
        return
      }
      d.setStep(s, 'applying', `applying revision ${d.r.revision}`, {
        startedAt: d.now,
        ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
        ...(input.invocationBefore === undefined ? {} : { invocationBefore: input.invocationBefore })
      }, { ...(input.timings === undefined ? {} : { prepare: input.timings }), ...(input.via === undefined ? {} : { via: input.via }) })
      d.effect({ type: 'apply', node: s.node })
      return
    case 'blocked': blocked(d, s, input.reason, input.message, mayStart); return
    case 'step-applied': if (s.state === 'applying') applied(d, s, input.outcome); return
    case 'apply-error':
      if (s.state !== 'applying') return
      d.emit('info', `${s.node}: the apply stream broke (${input.message}); asking the agent what became of revision ${d.r.revision}`, s.node)
      d.effect({ type: 'recover-step', node: s.node })
      return
    case 'apply-refused':
      if (s.state !== 'applying') return
      d.setStep(s, 'failed', `the agent refused revision ${d.r.revision}, nothing was written: ${input.message}`, { finishedAt: d.now })
      d.effect({ type: 'stop-follow', node: s.node })
      return
    case 'reapply':
      if (s.state !== 'applying') return
      d.emit('info', `${s.node}: the agent never received revision ${d.r.revision}; sending it`, s.node)
      d.effect({ type: 'apply', node: s.node })
      return
    case 'step-lost':
      if (s.state !== 'applying') return
      d.setStep(s, 'failed', input.message, { finishedAt: d.now })
      d.effect({ type: 'stop-follow', node: s.node })
      return
    case 'gate-result': if (s.state === 'gating') gated(d, s, input.gate); return
    case 'min-healthy-elapsed':
      if (s.state !== 'healthy') return
      if (!input.ok) {
        d.setStep(s, 'reverting', `did not stay healthy for ${d.r.strategy.minHealthyTimeMs} ms: ${input.message}; asking the agent to roll it back`)
        d.effect({ type: 'rollback-node', node: s.node })
        return
      }
      d.setStep(s, 'done', `healthy for ${d.r.strategy.minHealthyTimeMs} ms`, { finishedAt: d.now })
      if (d.r.strategy.canary && d.r.state === 'running' && d.r.stop === undefined && d.count('done') === 1 && d.count('pending') > 0) {
        d.setState('awaiting-promotion', `canary ${s.node} is done; promote to roll the other nodes`)
      }
      return
    case 'node-rolled-back': {
      if (s.state !== 'reverting') return
      const wasDone = s.gate?.ok === true && s.finishedAt !== undefined
      const why = s.message ?? ''
      if (!input.ok) d.setStep(s, 'failed', `${why}; rollback failed: ${input.message}`, { finishedAt: d.now })
      else if (wasDone) d.setStep(s, 'reverted', `rolled back: ${input.message}`, { finishedAt: d.now })
      else d.setStep(s, 'failed', `${why}; rolled back: ${input.message}`, { finishedAt: d.now })
    }
  }
}

function blocked (d: Draft, s: NodeStep, reason: 'unhealthy' | 'slot', message: string, mayStart: boolean): void {
  if (!mayStart) {
    if (s.state === 'pending' && s.startedAt !== undefined) d.patchStep(s, { startedAt: undefined })
    return
  }
  if (reason === 'unhealthy' && d.r.strategy.onUnhealthy === 'pause') {
    d.patchStep(s, { startedAt: undefined, message })
    d.setState('paused', `paused before ${s.node}: ${message}; resume when the cluster is healthy`)
    return
  }
  const waited = d.now - (s.startedAt ?? d.now)
  if (waited > d.r.strategy.progressDeadlineMs) {
    d.patchStep(s, { message })
    d.stop('halt', `no progress for ${waited} ms (progressDeadline ${d.r.strategy.progressDeadlineMs} ms) before ${s.node}: ${message}`)
    return
  }
  if (s.message !== message) {
    d.patchStep(s, { message })
    d.emit('info', `${s.node} waits: ${message}`, s.node, { reason })
  }
  d.effect({ type: 'wait', ms: d.opts.pollMs, then: { type: 'retry-prepare', node: s.node } })
}

function applied (d: Draft, s: NodeStep, o: StepOutcome): void {
  const result = { result: o.result, restarted: o.restarted, message: o.message, ...(o.failedStep === undefined ? {} : { failedStep: o.failedStep }) }
  const patch = { result, ...(o.verdict === undefined ? {} : { verdict: o.verdict }) }
  if (o.verdict !== undefined) d.emit('verdict', `${s.node}: verdict ${o.verdict.ok ? 'ok' : 'failed'}: ${o.verdict.summary}`, s.node, o.verdict)
  if ((o.result === 'ok' || o.result === 'changed') && (o.verdict === undefined || o.verdict.ok)) {
    d.setStep(s, 'gating', `agent: ${o.result}; checking the journal and the cluster gate`, patch)
    d.effect({ type: 'gate', node: s.node })
    return
  }
  d.setStep(s, 'failed', `agent: ${agentAnswerText(o)}`, { ...patch, finishedAt: d.now })
  d.effect({ type: 'stop-follow', node: s.node })
}

function gated (d: Draft, s: NodeStep, gate: GateResult): void {
  d.effect({ type: 'stop-follow', node: s.node })
  if (gate.ok) {
    d.setStep(s, 'healthy', `gate passed; holding for ${d.r.strategy.minHealthyTimeMs} ms`, { gate })
    d.effect({ type: 'hold', node: s.node, ms: d.r.strategy.minHealthyTimeMs })
    return
  }
  d.setStep(s, 'reverting', `gate failed though the agent's verdict was ok: ${gate.message}; asking the agent to roll it back`, { gate })
  d.effect({ type: 'rollback-node', node: s.node })
}

// What follows from the state: halt when the failure budget is spent, start the next nodes, end.
function schedule (d: Draft): void {
  const r = d.r
  if (isTerminal(r.state) || r.state === 'pending') return
  if (r.state === 'reverting') { scheduleRevert(d); return }
  const failed = r.nodes.filter((s) => s.state === 'failed')
  if (r.stop === undefined && failed.length > r.strategy.failureBudget) {
    const last = failed.reduce((a, b) => (b.finishedAt ?? 0) > (a.finishedAt ?? 0) ? b : a)
    const budget = r.strategy.failureBudget === 0 ? '' : ` (failure budget ${r.strategy.failureBudget} spent)`
    d.stop('halt', `halted: ${last.node} failed${budget}: ${last.message ?? 'no message'}`)
  }
  const inFlight = d.count(...IN_FLIGHT)
  if (r.stop !== undefined) {
    if (inFlight === 0) finalize(d)
    return
  }
  if (r.state !== 'running') return
  const preparing = r.nodes.filter((s) => s.state === 'pending' && s.startedAt !== undefined).length
  const waiting = r.nodes.filter((s) => s.state === 'pending' && s.startedAt === undefined)
  if (inFlight + preparing + waiting.length === 0) { finalize(d); return }
  const limit = r.strategy.canary && d.count('done') === 0 ? 1 : r.strategy.maxParallel
  let busy = inFlight + preparing
  for (const s of waiting) {
    if (busy >= limit) break
    d.patchStep(s, { startedAt: d.now })
    d.effect({ type: 'prepare-step', node: s.node })
    busy++
  }
}

function finalize (d: Draft): void {
  const r = d.r
  if (r.stop?.kind === 'abort') return d.finish('aborted', r.stop.message)
  if (r.stop?.kind === 'halt') {
    if (r.strategy.autoRevert && d.count('done') > 0) {
      d.setState('reverting', `${r.stop.message}; auto-revert: rolling back the nodes already changed, one at a time`)
      scheduleRevert(d)
      return
    }
    return d.finish('failed', r.stop.message)
  }
  const failed = r.nodes.filter((s) => s.state === 'failed').map((s) => s.node)
  d.finish('succeeded', failed.length === 0
    ? `every node on revision ${r.revision}`
    : `${d.count('done')} of ${r.nodes.length} nodes on revision ${r.revision}; failed within the failure budget: ${failed.join(', ')}`)
}

function scheduleRevert (d: Draft): void {
  if (d.count(...IN_FLIGHT) > 0) return
  const next = [...d.r.nodes].reverse().find((s) => s.state === 'done')
  if (next !== undefined) {
    d.setStep(next, 'reverting', 'rolling back to the previous revision')
    d.effect({ type: 'rollback-node', node: next.node })
    return
  }
  const reverted = d.r.nodes.filter((s) => s.state === 'reverted').map((s) => s.node)
  const why = d.r.stop?.message
  d.finish('reverted', `${why === undefined ? '' : `${why}; `}rolled back: ${reverted.length === 0 ? 'no node needed it' : reverted.join(', ')}`)
}

/** A mutable copy of the rollout plus the effects collected while a transition runs. */
class Draft {
  readonly r: Rollout
  readonly effects: Effect[] = []
  #changed = false

  constructor (readonly prev: Rollout, readonly now: number, readonly opts: MachineOptions) {
    this.r = structuredClone(prev)
  }

  result (): Transition {
    if (!this.#changed) return { rollout: this.prev, effects: this.effects }
    this.r.updatedAt = this.now
    return { rollout: this.r, effects: this.effects }
  }

  refuse (why: string): Transition { return { rollout: this.prev, effects: [], refused: why } }

  step (node: string): NodeStep | undefined { return this.r.nodes.find((s) => s.node === node) }

  count (...states: StepState[]): number { return this.r.nodes.filter((s) => states.includes(s.state)).length }

  effect (e: Effect): void { this.effects.push(e) }

  emit (type: RolloutEventType, message: string, node?: string, data?: unknown): void {
    this.effect({ type: 'emit', event: { at: this.now, type, message, ...(node === undefined ? {} : { node }), ...(data === undefined ? {} : { data }) } })
  }

  audit (action: string, actor: string, detail: Record<string, unknown> = {}): void {
    this.effect({ type: 'audit', action, actor, detail: { state: this.r.state, ...detail } })
  }

  setState (state: RolloutState, message: string): void {
    this.#changed = true
    this.r.state = state
    this.r.message = message
    this.emit('rollout', `rollout ${state}: ${message}`, undefined, { state })
  }

  finish (state: RolloutState, message: string): void {
    this.setState(state, message)
    this.audit('rollout.finish', 'system', {
      message,
      nodes: this.r.nodes.map((s) => ({ node: s.node, state: s.state, ...(s.verdict === undefined ? {} : { verdict: s.verdict.summary }) }))
    })
    this.effect({ type: 'finish' })
  }

  stop (kind: 'abort' | 'halt', message: string, by?: string): void {
    this.#changed = true
    this.r.stop = { kind, at: this.now, message, ...(by === undefined ? {} : { by }) }
    this.r.message = message
    this.skipPending(kind === 'abort' ? 'not started: the rollout was aborted' : 'not started: the rollout halted')
    this.emit('rollout', `rollout stopping: ${message}`, undefined, { state: this.r.state, stop: kind })
  }

  skipPending (message: string): void {
    for (const s of this.r.nodes) if (s.state === 'pending') this.setStep(s, 'skipped', message, { startedAt: undefined })
  }

  patchStep (s: NodeStep, patch: Partial<Record<keyof NodeStep, unknown>>): void {
    this.#changed = true
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete (s as Record<string, unknown>)[k]
      else (s as Record<string, unknown>)[k] = v
    }
  }

  /** `data` goes into the step event beside the state (never into the stored step). */
  setStep (s: NodeStep, state: StepState, message: string, patch: Partial<Record<keyof NodeStep, unknown>> = {}, data: Record<string, unknown> = {}): void {
    this.patchStep(s, { ...patch, state, message })
    this.emit('step', `${s.node}: ${state}: ${message}`, s.node, { ...data, state })
  }
}
