// The coordinator's HTTP edge: the agent's timeouts and connection bound (docs/security.md), its
// own body limits, and CRD_ codes for what Node's parser refuses (the generic part is
// shared/http-edge.ts). A plan or rollout body is a change (at most 1 MiB) inside a small JSON
// envelope, so those routes take the change limit plus 64 KiB; everything else takes 16 KiB.
// Event streams send a heartbeat every 15 s, well inside the 60 s idle timeout.
import type { Socket } from 'node:net'
import { CHANGE_LIMITS } from '../shared/change/limits.js'
import { formatBytes, parserErrorHandler, type EdgeErrors, type EdgeTimeouts } from '../shared/http-edge.js'
import { BodyTooLargeError, HttpBadRequestError, HttpHeadersTooLargeError, HttpRequestTimeoutError } from './errors.js'

/** Timeouts (ms) and bounds of the coordinator's server. */
export interface CoordinatorEdgeLimits extends EdgeTimeouts {
  /** Body bytes of POST /v1/plans and /v1/rollouts. */
  readonly changeBodyBytes: number
  /** Body bytes of every other route. */
  readonly otherBodyBytes: number
}

/** The limits of the coordinator's API. */
export const COORDINATOR_EDGE_LIMITS: CoordinatorEdgeLimits = Object.freeze({
  connectionTimeoutMs: 60_000,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  // Operators, agents at boot and event streams: more than an agent's API sees.
  maxConnections: 2048,
  changeBodyBytes: CHANGE_LIMITS.maxBytes + 64 * 1024,
  otherBodyBytes: 16 * 1024
})

/** Routes whose body carries a change. */
const CHANGE_ROUTES = new Set(['/v1/plans', '/v1/rollouts'])

/** The body limit of a route. */
export function bodyLimitFor (url: string, limits: CoordinatorEdgeLimits): number {
  return CHANGE_ROUTES.has(url) ? limits.changeBodyBytes : limits.otherBodyBytes
}

/** The error for fastify's own "body too large", naming the route and its limit. */
export function bodyTooLarge (url: string, limits: CoordinatorEdgeLimits): Error {
  const path = url.split('?')[0] ?? url
  return new BodyTooLargeError(path, formatBytes(bodyLimitFor(path, limits)))
}

const EDGE_ERRORS: EdgeErrors = {
  badRequest: reason => new HttpBadRequestError(reason),
  requestTimeout: detail => new HttpRequestTimeoutError(detail),
  headersTooLarge: limit => new HttpHeadersTooLargeError(limit)
}

/** fastify's clientErrorHandler for the coordinator. */
export function clientErrorHandler (limits: CoordinatorEdgeLimits): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return parserErrorHandler(limits, EDGE_ERRORS)
}
