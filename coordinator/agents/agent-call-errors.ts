// The three ways a call to a node's agent fails, as the engine needs to tell them apart:
//  - unreachable (connect, TLS, a timeout, the connection lost mid-answer): the agent may not
//    have seen the request, or may still be working on it; `sent` says whether the request can
//    have reached it (false only when it failed before the connection was up, so a retry cannot
//    run anything twice);
//  - the agent answered with one of its errors: `agentCode` is its code (AGT_CHANGE_CONFLICT,
//    AGT_STALE_REVISION, AGT_REVISION_CONFLICT, ...) and `agentStatus` its HTTP status, so the
//    engine branches on them without parsing the message;
//  - the agent answered something that is not its API (schema mismatch, a stream that ended
//    without its last line): a bug or not an agent, never retried blindly.
// Messages name the node and what failed, never a request body (a change carries secrets).
import { CoordinatorError } from '../errors.js'

/** A node's agent could not be reached, or the connection broke before the answer was complete. */
export class AgentUnreachableError extends CoordinatorError {
  readonly node: string
  /** false when the request cannot have reached the agent (the connection never came up). */
  readonly sent: boolean

  constructor (node: string, detail: string, opts: { sent: boolean, cause?: unknown }) {
    super('CRD_AGENT_UNREACHABLE', `the agent of node ${node} is unreachable: ${detail}`, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.node = node
    this.sent = opts.sent
  }
}

/** A node's agent answered with an error body (`{ code, message, statusCode }`). */
export class AgentAnsweredError extends CoordinatorError {
  readonly node: string
  /** The agent's code, e.g. AGT_CHANGE_CONFLICT (docs/errors.md). */
  readonly agentCode: string
  /** The HTTP status the agent sent (for an error line inside a stream: the status it carries). */
  readonly agentStatus: number
  /** The agent's message (4xx: what to fix; 5xx: generic, the agent's log has the rest). */
  readonly agentMessage: string

  constructor (node: string, body: { code: string, message: string, statusCode: number }) {
    super('CRD_AGENT_ERROR', `the agent of node ${node} answered ${body.statusCode} ${body.code}: ${body.message}`)
    this.node = node
    this.agentCode = body.code
    this.agentStatus = body.statusCode
    this.agentMessage = body.message
  }
}

/** A node's agent answered something that is not its API. */
export class AgentBadAnswerError extends CoordinatorError {
  readonly node: string

  constructor (node: string, detail: string, opts?: { cause?: unknown }) {
    super('CRD_AGENT_BAD_ANSWER', `the agent of node ${node} answered something that is not its API: ${detail}`, opts)
    this.node = node
  }
}

/** True when `err` is an agent error with one of `codes` (any agent error when none are given). */
export function isAgentError (err: unknown, ...codes: string[]): err is AgentAnsweredError {
  return err instanceof AgentAnsweredError && (codes.length === 0 || codes.includes(err.agentCode))
}
