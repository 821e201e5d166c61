// The vocabulary of the rollout state machine (machine.ts): what happens to a rollout (inputs)
// and what the machine asks the runner to do about it (effects). Plain data, so the machine is
// a pure function that tests drive with tables, and the runner is the only place with I/O.
import type { ApplyOutcome, ApplyStep } from '../../shared/schemas/apply.js'
import type { GateResult } from '../../shared/schemas/rollout.js'
import type { Verdict } from '../../shared/schemas/verdict.js'
import type { NewRolloutEvent } from '../store/rollout-store.js'

/** What an agent said about one apply (ApplyResult or the status view's lastResult). */
export interface StepOutcome {
  result: ApplyOutcome
  revision: number
  restarted: boolean
  failedStep?: ApplyStep
  message: string
  verdict?: Verdict
}

/**
 * How a node's change is sent at its turn: `staged` commits the change staged on its agent while
 * the node before it restarted (stager.ts), `apply` sends it whole.
 */
export type ApplyVia = 'staged' | 'apply'

/** An operator's command; `actor` is the token name for the audit log. */
export type Command = 'pause' | 'resume' | 'abort' | 'promote' | 'rollback'

/** Something that happened to a rollout. */
export type Input =
  | { type: 'start', actor: string }
  /** A coordinator (re)started with this rollout active in the store. */
  | { type: 'resumed' }
  | { type: Command, actor: string }
  /** The wait after a blocked step is over: check again. */
  | { type: 'retry-prepare', node: string }
  /**
   * The step's preconditions hold: cursor and InvocationID taken, the apply may be sent.
   * `timings` (ms per part of the preparation) and `via` only go into the `applying` event.
   */
  | { type: 'step-prepared', node: string, cursor?: string, invocationBefore?: string, timings?: Record<string, number>, via?: ApplyVia }
  /** The step may not start yet: a node unhealthy, or a boot slot open on the cluster. */
  | { type: 'blocked', node: string, reason: 'unhealthy' | 'slot', message: string }
  | { type: 'step-applied', node: string, outcome: StepOutcome }
  /** The apply call broke (connection lost): the agent may or may not have run it. */
  | { type: 'apply-error', node: string, message: string }
  /** The agent refused the change (a 4xx but "another change is in progress"): nothing was written. */
  | { type: 'apply-refused', node: string, message: string }
  /** Asked after a break or a crash: the agent never got the apply, send it (again). */
  | { type: 'reapply', node: string }
  /** Asked after a break or a crash: no answer from the agent within the healthy deadline. */
  | { type: 'step-lost', node: string, message: string }
  | { type: 'gate-result', node: string, gate: GateResult }
  | { type: 'min-healthy-elapsed', node: string, ok: boolean, message: string }
  | { type: 'node-rolled-back', node: string, ok: boolean, message: string }

/** What the runner must do. Every effect runs after the rollout it came with is stored. */
export type Effect =
  /** Check the cluster gate and boot slots, take status + cursor; answer step-prepared or blocked. */
  | { type: 'prepare-step', node: string }
  /** Follow the journal from the step's cursor and send the apply; answer step-applied or apply-error. */
  | { type: 'apply', node: string }
  /** Find out what became of an apply in flight (agent status by revision); answer step-applied, reapply or step-lost. */
  | { type: 'recover-step', node: string }
  /** The coordinator's journal reading and the cluster gate, retried until the healthy deadline; answer gate-result. */
  | { type: 'gate', node: string }
  /** Wait `ms`, then check the node is still ready; answer min-healthy-elapsed. */
  | { type: 'hold', node: string, ms: number }
  /** Ask the agent to roll the node back (unless it is already back); answer node-rolled-back. */
  | { type: 'rollback-node', node: string }
  /** Stop following the node's journal. */
  | { type: 'stop-follow', node: string }
  /** Feed `then` after `ms`. */
  | { type: 'wait', ms: number, then: Input }
  | { type: 'emit', event: NewRolloutEvent }
  | { type: 'audit', action: string, actor: string, detail: Record<string, unknown> }
  /** The rollout reached a terminal state: nothing more will happen to it. */
  | { type: 'finish' }
