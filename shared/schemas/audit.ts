// The coordinator's audit log as GET /v1/audit shows it (coordinator/store/rollout-store.ts
// AuditEntry): who did what to which target, with which plan hash and evidence, hash-chained.
import Type, { type Static } from 'typebox'

/** One audit entry. */
export const AuditEntrySchema = Type.Object({
  seq: Type.Integer({ minimum: 1, description: '1, 2, 3… without gaps' }),
  at: Type.Number({ description: 'wall-clock ms' }),
  actor: Type.String({ description: 'token name, `system`, or `agent:<node>`' }),
  action: Type.String({ description: 'e.g. rollout.create, rollout.abort, token.create' }),
  target: Type.String(),
  planHash: Type.Optional(Type.String()),
  detail: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String({ description: 'sha256 hex of the previous entry (64 zeros for the first)' }),
  hash: Type.String({ description: 'sha256 hex over this entry and prevHash' })
})
export type AuditEntryView = Static<typeof AuditEntrySchema>
