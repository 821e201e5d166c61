// The HTTP edge of the agent: timeouts, body limits and a connection bound, set where the server
// is built (app.ts), and the answer to requests Node's HTTP parser refuses before fastify sees
// them. Every such answer has the body every other error has, `{ code, message, statusCode }`.
//
// Why these figures: a change is at most 1 MiB and a caller sends it at once, so a client that
// needs more than 30 s for its request, or 10 s for its headers, is stalled or hostile; its socket
// is closed and /health/live keeps answering. Streams (apply progress, journal follow) write a
// heartbeat every 15 s, well inside the 60 s idle timeout.
import type { Socket } from 'node:net'
import { BodyTooLargeError, HttpBadRequestError, HttpHeadersTooLargeError, HttpRequestTimeoutError } from './errors.js'
import { CHANGE_LIMITS } from '../shared/change/limits.js'
import { formatBytes, parserErrorFor, parserErrorHandler, type EdgeErrors, type EdgeTimeouts } from '../shared/http-edge.js'

/** Timeouts (ms) and bounds of the HTTP server. */
export interface HttpEdgeLimits extends EdgeTimeouts {
  /** Body bytes of POST /v1/plan, /v1/apply and /v1/stage (a change). */
  readonly changeBodyBytes: number
  /** Body bytes of every other route. */
  readonly otherBodyBytes: number
}

/** The limits of the agent's API (docs/security.md). */
export const HTTP_EDGE_LIMITS: HttpEdgeLimits = Object.freeze({
  connectionTimeoutMs: 60_000,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
  changeBodyBytes: CHANGE_LIMITS.maxBytes,
  otherBodyBytes: 16 * 1024
})

/** Routes that take a change as their body. */
const CHANGE_ROUTES = new Set(['/v1/plan', '/v1/apply', '/v1/stage'])

/** The body limit of a route. */
export function bodyLimitFor (url: string, limits: HttpEdgeLimits): number {
  return CHANGE_ROUTES.has(url) ? limits.changeBodyBytes : limits.otherBodyBytes
}

/** The error for fastify's own "body too large", naming the route and its limit. */
export function bodyTooLarge (url: string, limits: HttpEdgeLimits): Error {
  const path = url.split('?')[0] ?? url
  return new BodyTooLargeError(path, formatBytes(bodyLimitFor(path, limits)))
}

const AGENT_EDGE_ERRORS: EdgeErrors = {
  badRequest: reason => new HttpBadRequestError(reason),
  requestTimeout: detail => new HttpRequestTimeoutError(detail),
  headersTooLarge: limit => new HttpHeadersTooLargeError(limit)
}

/** The status and error for a request the HTTP parser refused. */
export function clientErrorFor (err: NodeJS.ErrnoException, limits: HttpEdgeLimits): { statusCode: number, error: Error & { code: string } } {
  return parserErrorFor(err, limits, AGENT_EDGE_ERRORS)
}

/**
 * fastify's clientErrorHandler: answers a request the parser refused with the usual error body,
 * then closes the socket. Nothing is logged at error level: it is the client's fault.
 */
export function clientErrorHandler (limits: HttpEdgeLimits): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return parserErrorHandler(limits, AGENT_EDGE_ERRORS)
}
