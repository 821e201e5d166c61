// Rollouts as the coordinator's API, its store and the `keyroll` CLI see them. A rollout applies
// one change to every node of one cluster, node by node, each step gated on the node's verdict,
// the coordinator's own reading of the node's journal and the cluster gate (docs/coordinator.md).
// Nothing here carries a secret value: the change is shown as a ChangeView (secrets masked).
import Type, { type Static } from 'typebox'
import { ChangeViewSchema, DurationSchema } from '../change/schema.js'
import { ApplyOutcomeSchema, ApplyStepSchema, PlanResultSchema } from './apply.js'
import { VerdictSchema } from './verdict.js'

/** How a rollout proceeds. Every field has a default (ROLLOUT_STRATEGY_DEFAULTS). */
export const StrategySchema = Type.Object({
  maxParallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'nodes changed at once (default 1; minkms writes need every node, so more than 1 stops writes while they restart)' })),
  canary: Type.Optional(Type.Boolean({ description: 'after the first node passes, wait for `promote` before the others (default false)' })),
  healthyDeadline: Type.Optional(DurationSchema),
  progressDeadline: Type.Optional(DurationSchema),
  minHealthyTime: Type.Optional(DurationSchema),
  failureBudget: Type.Optional(Type.Integer({ minimum: 0, description: 'failed nodes tolerated before the rollout halts (default 0: halt at the first)' })),
  autoRevert: Type.Optional(Type.Boolean({ description: 'on failure, roll back the nodes already changed (default false)' })),
  onUnhealthy: Type.Optional(Type.Enum(['wait', 'pause'], { description: 'mid-rollout, a node of the cluster unhealthy before the next step: wait for it (within progressDeadline) or pause (default wait)' })),
  stageNext: Type.Optional(Type.Boolean({ description: 'stage the next node\'s change on its agent while the current node restarts, and commit it at that node\'s turn (default true; an agent that cannot stage is applied the ordinary way)' }))
}, { additionalProperties: false })
export type Strategy = Static<typeof StrategySchema>

/** A strategy with every default filled in; durations in ms. */
export interface ResolvedStrategy {
  maxParallel: number
  canary: boolean
  healthyDeadlineMs: number
  progressDeadlineMs: number
  minHealthyTimeMs: number
  failureBudget: number
  autoRevert: boolean
  onUnhealthy: 'wait' | 'pause'
  /** Absent in rollouts stored before the switch existed: on, as the default. */
  stageNext?: boolean
}

/** Defaults of a strategy (Nomad's update stanza, tuned to minkms restart times). */
export const ROLLOUT_STRATEGY_DEFAULTS = {
  maxParallel: 1,
  canary: false,
  healthyDeadline: '2m',
  progressDeadline: '10m',
  minHealthyTime: '5s',
  failureBudget: 0,
  autoRevert: false,
  onUnhealthy: 'wait',
  stageNext: true
} as const

/** Life of a rollout. Terminal: succeeded, failed, aborted, reverted. */
export const RolloutStateSchema = Type.Enum(['pending', 'running', 'paused', 'awaiting-promotion', 'reverting', 'succeeded', 'failed', 'aborted', 'reverted'])
export type RolloutState = Static<typeof RolloutStateSchema>
export const TERMINAL_ROLLOUT_STATES: readonly RolloutState[] = ['succeeded', 'failed', 'aborted', 'reverted']

/**
 * Life of one node's step: pending → applying (agent apply running) → gating (verdict ok, the
 * coordinator's journal reading and the cluster gate) → healthy (gate passed and held for
 * minHealthyTime) → done. Failures: failed (the agent rolled the node back by itself, or the gate
 * failed and the coordinator asked the agent to roll back), reverted (auto-revert / rollback of a
 * node that was done), skipped (never touched: rollout halted or aborted first).
 */
export const StepStateSchema = Type.Enum(['pending', 'applying', 'gating', 'healthy', 'done', 'failed', 'reverting', 'reverted', 'skipped'])
export type StepState = Static<typeof StepStateSchema>

/** The cluster gate's result for one node (each check with how long it took to pass). */
export const GateResultSchema = Type.Object({
  ok: Type.Boolean(),
  message: Type.String(),
  journal: Type.Optional(Type.Object({ ok: Type.Boolean(), message: Type.String(), readyLineAt: Type.Optional(Type.Number()), invocationId: Type.Optional(Type.String()) })),
  internode: Type.Optional(Type.Object({ ok: Type.Boolean(), message: Type.String(), via: Type.Optional(Type.String()), ms: Type.Number() })),
  client: Type.Optional(Type.Object({ ok: Type.Boolean(), message: Type.String(), ms: Type.Number() })),
  writeReady: Type.Optional(Type.Object({ ok: Type.Boolean(), message: Type.String(), ms: Type.Number() })),
  /** Only for a rollout with `expectHsm`: the node's own cluster status shows that HSM configured and sealing its root key. */
  hsm: Type.Optional(Type.Object({
    ok: Type.Boolean(),
    message: Type.String(),
    ms: Type.Number(),
    name: Type.String({ description: 'the HSM expected (the rollout\'s expectHsm)' }),
    configured: Type.Optional(Type.Array(Type.String(), { description: 'HSMs configured on the node, as last seen' })),
    sealed: Type.Optional(Type.Array(Type.String(), { description: 'HSMs holding a sealed copy of the node\'s root key, as last seen' }))
  }))
})
export type GateResult = Static<typeof GateResultSchema>

/** One node's step of a rollout. */
export const NodeStepSchema = Type.Object({
  node: Type.String(),
  state: StepStateSchema,
  /** Journal cursor taken before the apply: the coordinator's follow starts after it. */
  cursor: Type.Optional(Type.String()),
  /** minkms's InvocationID before the apply (from the agent's status). */
  invocationBefore: Type.Optional(Type.String()),
  startedAt: Type.Optional(Type.Number()),
  finishedAt: Type.Optional(Type.Number()),
  result: Type.Optional(Type.Object({
    result: ApplyOutcomeSchema,
    restarted: Type.Boolean(),
    failedStep: Type.Optional(ApplyStepSchema),
    message: Type.String()
  })),
  verdict: Type.Optional(VerdictSchema),
  gate: Type.Optional(GateResultSchema),
  message: Type.Optional(Type.String({ description: 'one sentence: why the step is where it is' }))
})
export type NodeStep = Static<typeof NodeStepSchema>

/**
 * Set when a rollout was told to stop (abort) or halted itself (failure budget spent, progress
 * deadline passed): no node starts after it, and the rollout ends once the steps in flight finish.
 */
export const RolloutStopSchema = Type.Object({
  kind: Type.Enum(['abort', 'halt']),
  at: Type.Number(),
  by: Type.Optional(Type.String()),
  message: Type.String()
})

/** A rollout as GET /v1/rollouts/:id shows it. */
export const RolloutSchema = Type.Object({
  id: Type.String(),
  cluster: Type.String(),
  revision: Type.Integer({ minimum: 1 }),
  planHash: Type.String(),
  change: ChangeViewSchema,
  strategy: Type.Object({
    maxParallel: Type.Integer(),
    canary: Type.Boolean(),
    healthyDeadlineMs: Type.Integer(),
    progressDeadlineMs: Type.Integer(),
    minHealthyTimeMs: Type.Integer(),
    failureBudget: Type.Integer(),
    autoRevert: Type.Boolean(),
    onUnhealthy: Type.Enum(['wait', 'pause']),
    stageNext: Type.Optional(Type.Boolean())
  }),
  state: RolloutStateSchema,
  createdBy: Type.String({ description: 'token name of the operator who started it' }),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
  nodes: Type.Array(NodeStepSchema),
  expectHsm: Type.Optional(Type.String({ description: 'an HSM each node must show configured and holding a sealed copy of its root key after its step (the HSM migration\'s phase A gate)' })),
  message: Type.Optional(Type.String({ description: 'one sentence: why the rollout is where it is (which node failed and why)' })),
  stop: Type.Optional(RolloutStopSchema)
})
export type Rollout = Static<typeof RolloutSchema>

/** Kinds of rollout events. */
export const RolloutEventTypeSchema = Type.Enum([
  'rollout', // the rollout's state changed (data.state)
  'step', // a node's step state changed (data.state)
  'apply', // an apply/rollback progress line from the agent (data: ApplyEvent)
  'journal', // a minkms journal line of the node (data: { cursor, realtimeUs, invocationId, priority })
  'verdict', // the agent's verdict (data: Verdict)
  'gate', // a cluster gate check passed/failed, with its timing (data: GateResult part)
  'stage', // the next node's change staged on its agent, or why not (data: { revision, ok, ms, code? })
  'info' // anything else worth telling (waiting for a node, a slot held by a booting node)
])
export type RolloutEventType = Static<typeof RolloutEventTypeSchema>

/** One event of a rollout: indexes start at 0 and have no gaps (resume a stream with ?from=). */
export const RolloutEventSchema = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  at: Type.Number({ description: 'wall-clock ms' }),
  type: RolloutEventTypeSchema,
  node: Type.Optional(Type.String()),
  message: Type.String(),
  data: Type.Optional(Type.Unknown())
})
export type RolloutEvent = Static<typeof RolloutEventSchema>

/** One node's part of a cluster plan. */
export const NodePlanSchema = Type.Object({
  node: Type.String(),
  appliedRevision: Type.Integer({ minimum: 0 }),
  plan: PlanResultSchema
})
export type NodePlan = Static<typeof NodePlanSchema>

/** POST /v1/plans answer: per node masked diffs and the hash a rollout must quote. */
export const ClusterPlanSchema = Type.Object({
  cluster: Type.String(),
  revision: Type.Integer({ minimum: 1 }),
  planHash: Type.String({ description: 'sha256 over the cluster, the change and every node\'s plan; POST /v1/rollouts requires it' }),
  change: ChangeViewSchema,
  nodes: Type.Array(NodePlanSchema)
})
export type ClusterPlan = Static<typeof ClusterPlanSchema>
