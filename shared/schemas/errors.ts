// The body of every error response: a stable code, a message for humans, the HTTP
// status, and for bad input every problem with its field path.
import Type, { type Static } from 'typebox'

/** One thing wrong with an input (same shape as shared/edit/problem.ts Problem). */
export const ProblemSchema = Type.Object({
  path: Type.String({ description: 'dotted field path; empty for the whole input' }),
  message: Type.String({ description: 'what is wrong and what to do about it' }),
  line: Type.Optional(Type.Integer({ minimum: 1 })),
  column: Type.Optional(Type.Integer({ minimum: 1 }))
})
export type Problem = Static<typeof ProblemSchema>

/** `{ code, message, statusCode }`: 4xx messages say what to fix; 5xx messages are generic. */
export const ErrorBodySchema = Type.Object({
  code: Type.String({ description: 'stable error code, e.g. AGT_CHANGE_CONFLICT (docs/errors.md)' }),
  message: Type.String(),
  statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
  problems: Type.Optional(Type.Array(ProblemSchema, { description: 'every problem of a rejected input' }))
})
export type ErrorBody = Static<typeof ErrorBodySchema>
