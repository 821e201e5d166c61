// Plans, apply progress and apply results: what POST /v1/plan, /v1/apply and /v1/rollback
// return (agent/core.ts). None of these carry secret values; diffs show `***<fingerprint>`.
import Type, { type Static } from 'typebox'
import { ErrorBodySchema } from './errors.js'
import { VerdictSchema } from './verdict.js'

/** Outcome of an apply, Ansible-style plus keyroll's rollback states. */
export const ApplyOutcomeSchema = Type.Enum(['ok', 'changed', 'failed', 'rolled-back', 'rollback-failed'])
export type ApplyOutcome = Static<typeof ApplyOutcomeSchema>

/** Steps of the apply transaction, in order. */
export const ApplyStepSchema = Type.Enum(['plan', 'lock', 'backup', 'validate', 'write', 'restart', 'verify', 'commit',
  'restore', 'restart-restore', 'verify-restore'])
export type ApplyStep = Static<typeof ApplyStepSchema>

/** Progress of an apply: one NDJSON line each. */
export const ApplyEventSchema = Type.Object({
  step: ApplyStepSchema,
  status: Type.Enum(['started', 'done', 'failed', 'skipped']),
  at: Type.Number({ description: 'wall-clock ms' }),
  message: Type.Optional(Type.String())
})
export type ApplyEvent = Static<typeof ApplyEventSchema>

/** A managed file's part of a plan. */
export const FilePlanSchema = Type.Object({
  name: Type.String({ description: 'logical name from the agent config: config or env' }),
  path: Type.String(),
  changed: Type.Boolean(),
  diff: Type.String({ description: 'unified diff, secrets shown as ***<fingerprint>; empty when unchanged' }),
  warnings: Type.Optional(Type.Array(Type.String(), { description: 'findings that do not block the change, e.g. a secret in a file every user can read' }))
})
export type FilePlan = Static<typeof FilePlanSchema>

/** What an apply would do (no writes). */
export const PlanResultSchema = Type.Object({
  revision: Type.Integer({ minimum: 0 }),
  changed: Type.Boolean(),
  restart: Type.Boolean({ description: 'whether the unit would be restarted' }),
  files: Type.Array(FilePlanSchema)
})
export type PlanResult = Static<typeof PlanResultSchema>

// Shared by ApplyResult and the status view's lastResult (which has no plan but a time).
const applyResultFields = {
  result: ApplyOutcomeSchema,
  revision: Type.Integer({ minimum: 0 }),
  changed: Type.Boolean(),
  restarted: Type.Boolean(),
  failedStep: Type.Optional(ApplyStepSchema),
  message: Type.String({ description: 'one sentence; names the problem on failure' }),
  verdict: Type.Optional(VerdictSchema),
  rollbackVerdict: Type.Optional(VerdictSchema)
}

/** The result of an apply or rollback. */
export const ApplyResultSchema = Type.Object({ ...applyResultFields, plan: PlanResultSchema })
export type ApplyResult = Static<typeof ApplyResultSchema>

/** The last result as /v1/status shows it. */
export const LastResultSchema = Type.Object({ ...applyResultFields, at: Type.Number({ description: 'wall-clock ms' }) })
export type LastResult = Static<typeof LastResultSchema>

/** The last line of a successful apply stream. */
export const ApplyResultLineSchema = Type.Object({ result: ApplyResultSchema })
export type ApplyResultLine = Static<typeof ApplyResultLineSchema>

/** The last line of a stream that failed after it started (5xx messages are generic). */
export const StreamErrorLineSchema = Type.Object({ error: ErrorBodySchema })
export type StreamErrorLine = Static<typeof StreamErrorLineSchema>

/** A heartbeat line (`{}`), sent while a stream is idle so dead peers are noticed. */
export const HeartbeatLineSchema = Type.Object({}, { additionalProperties: false })

/**
 * Every line of POST /v1/apply and /v1/rollback (application/x-ndjson): ApplyEvents, heartbeats,
 * then exactly one `{ result }` or `{ error }` line.
 */
export const ApplyStreamLineSchema = Type.Union([ApplyEventSchema, ApplyResultLineSchema, StreamErrorLineSchema, HeartbeatLineSchema])
export type ApplyStreamLine = Static<typeof ApplyStreamLineSchema>
