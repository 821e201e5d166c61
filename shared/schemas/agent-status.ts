// The node as GET /v1/status and GET /health/ready show it. Never carries secret values.
import Type, { type Static } from 'typebox'
import { LastResultSchema } from './apply.js'
import { UnitStatusSchema } from './unit-status.js'

/** A managed file that differs from what the agent last wrote. */
export const DriftEntrySchema = Type.Object({
  name: Type.String(),
  path: Type.String(),
  fingerprint: Type.String({ description: "keyed fingerprint of the content on disk ('' when missing)" }),
  expected: Type.String({ description: 'fingerprint of what the agent last wrote or accepted' }),
  since: Type.Number({ description: 'wall-clock ms when first seen' })
})
export type DriftEntry = Static<typeof DriftEntrySchema>

/** One health check (Nomad's healthResponse). */
export const CheckSchema = Type.Object({ ok: Type.Boolean(), message: Type.String() })
export type Check = Static<typeof CheckSchema>

/** The checks behind readiness. */
export const ChecksSchema = Type.Object({ config: CheckSchema, unit: CheckSchema, journal: CheckSchema })
export type Checks = Static<typeof ChecksSchema>

/** The node as /v1/status shows it. */
export const AgentStatusSchema = Type.Object({
  node: Type.String(),
  unit: Type.Object({ name: Type.String(), status: Type.Optional(UnitStatusSchema) }),
  appliedRevision: Type.Integer({ minimum: 0, description: 'revision the files are on; 0 when none' }),
  desiredRevision: Type.Integer({ minimum: 0, description: 'revision last accepted' }),
  applying: Type.Boolean(),
  drift: Type.Array(DriftEntrySchema),
  lastResult: Type.Optional(LastResultSchema),
  /** The change staged in the agent's memory (POST /v1/stage), absent when none: no plan, no content. */
  staged: Type.Optional(Type.Object({
    revision: Type.Integer({ minimum: 1 }),
    stagedAt: Type.Number({ description: 'wall-clock ms' }),
    expiresAt: Type.Number({ description: 'wall-clock ms' })
  })),
  checks: ChecksSchema
})
export type AgentStatus = Static<typeof AgentStatusSchema>

/** GET /health/ready: 200 with ok true, 503 with ok false. */
export const ReadyViewSchema = Type.Object({ ok: Type.Boolean(), checks: ChecksSchema })
export type ReadyView = Static<typeof ReadyViewSchema>

/** GET /health/live. */
export const LiveViewSchema = Type.Object({ ok: Type.Literal(true) })
