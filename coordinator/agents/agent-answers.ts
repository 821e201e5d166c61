// Checking what an agent answers against its API's own schemas (shared/schemas), compiled once.
// Nothing an agent sends reaches the engine unchecked: a field of the wrong type, a missing
// field or a stream line of no known kind is a CRD_AGENT_BAD_ANSWER, not a crash further in.
// Problems name the field path and the rule, never the value (an answer may quote a file).
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { AgentStatusSchema, ReadyViewSchema } from '../../shared/schemas/agent-status.js'
import { ApplyEventSchema, ApplyResultLineSchema, PlanResultSchema, StreamErrorLineSchema } from '../../shared/schemas/apply.js'
import { ErrorBodySchema, type ErrorBody } from '../../shared/schemas/errors.js'
import { JournalEntrySchema } from '../../shared/schemas/journal.js'
import { ExternalKmsPreflightResultSchema } from '../../shared/schemas/preflight.js'
import { RootApiKeyAnswerSchema } from '../../shared/schemas/root-api-key.js'
import { DiscardStagedSchema, StagedChangeSchema } from '../../shared/schemas/staged.js'
import { AgentBadAnswerError } from './agent-call-errors.js'

/** A compiled check of one answer type. */
export interface AnswerCheck<S extends TSchema> {
  /** `value` as the type, or throws AgentBadAnswerError naming `what` and the first problem. */
  (node: string, what: string, value: unknown): Static<S>
  /** True when `value` matches, without throwing. */
  matches: (value: unknown) => value is Static<S>
}

function check<S extends TSchema> (schema: S): AnswerCheck<S> {
  const v = Compile(schema)
  const matches = (value: unknown): value is Static<S> => v.Check(value)
  const fn = (node: string, what: string, value: unknown): Static<S> => {
    if (matches(value)) return value
    const first = v.Errors(value)[0]
    const where = first === undefined ? '' : ` (${first.instancePath === '' ? '/' : first.instancePath}: ${first.message})`
    throw new AgentBadAnswerError(node, `${what} does not match the agent API${where}`)
  }
  return Object.assign(fn, { matches })
}

/** The answers of the agent API the coordinator reads. */
export const answers = {
  status: check(AgentStatusSchema),
  ready: check(ReadyViewSchema),
  plan: check(PlanResultSchema),
  event: check(ApplyEventSchema),
  resultLine: check(ApplyResultLineSchema),
  errorLine: check(StreamErrorLineSchema),
  errorBody: check(ErrorBodySchema),
  journalEntry: check(JournalEntrySchema),
  preflight: check(ExternalKmsPreflightResultSchema),
  staged: check(StagedChangeSchema),
  discarded: check(DiscardStagedSchema),
  rootApiKey: check(RootApiKeyAnswerSchema)
}

/** Parses one JSON text (a body or a stream line), or throws AgentBadAnswerError naming `what`. */
export function parseJson (node: string, what: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    // Never quote the text: it is not known to be the agent's (masked) output.
    throw new AgentBadAnswerError(node, `${what} is not JSON`)
  }
}

/** The error body of a non-2xx answer, or undefined when the body is not one. */
export function errorBodyOf (text: string): ErrorBody | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return answers.errorBody.matches(value) ? value : undefined
}
