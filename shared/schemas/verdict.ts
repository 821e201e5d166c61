// The verdict on a restart with its evidence (agent/verify/verdict.ts), as the API shows it.
import Type, { type Static } from 'typebox'
import { UnitStatusSchema } from './unit-status.js'

/** What was recorded just before the restart. */
export const RestartBaselineSchema = Type.Object({
  cursor: Type.String(),
  invocationId: Type.String(),
  nRestarts: Type.Integer({ minimum: 0 }),
  takenAt: Type.Number({ description: 'wall-clock ms' })
})
export type RestartBaseline = Static<typeof RestartBaselineSchema>

/** Why a verdict is what it is. */
export const VerdictReasonSchema = Type.Enum(['ready', 'fatal-line', 'unit-failed', 'process-exited', 'not-started', 'not-ready', 'unstable', 'aborted'])
export type VerdictReason = Static<typeof VerdictReasonSchema>

/** A journal line quoted as evidence. */
export const EvidenceLineSchema = Type.Object({
  at: Type.Number({ description: 'wall-clock ms' }),
  message: Type.String(),
  kind: Type.Enum(['ready', 'fatal', 'other']),
  invocationId: Type.Optional(Type.String())
})
export type EvidenceLine = Static<typeof EvidenceLineSchema>

/** Milestones of a verification, wall-clock ms. */
export const VerdictTimingsSchema = Type.Object({
  restartAt: Type.Number(),
  invocationAt: Type.Optional(Type.Number()),
  readyLineAt: Type.Optional(Type.Number()),
  healthyAt: Type.Optional(Type.Number()),
  fatalLineAt: Type.Optional(Type.Number()),
  failedAt: Type.Optional(Type.Number()),
  verdictAt: Type.Number()
})

/** The verdict with its evidence. */
export const VerdictSchema = Type.Object({
  ok: Type.Boolean(),
  reason: VerdictReasonSchema,
  summary: Type.String(),
  baseline: RestartBaselineSchema,
  invocationId: Type.String(),
  unit: Type.Optional(UnitStatusSchema),
  lines: Type.Array(EvidenceLineSchema),
  timings: VerdictTimingsSchema,
  health: Type.Optional(Type.Object({ ok: Type.Boolean(), at: Type.Number(), error: Type.Optional(Type.String()) }))
})
export type Verdict = Static<typeof VerdictSchema>
