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

/** Timeouts (ms) and bounds of the HTTP server. */
export interface HttpEdgeLimits {
  /** Idle socket timeout: a connection with no traffic for this long is closed. */
  readonly connectionTimeoutMs: number
  /** Time to receive a whole request, headers and body. */
  readonly requestTimeoutMs: number
  /** Time to receive the request line and headers. */
  readonly headersTimeoutMs: number
  /** How long an idle keep-alive connection stays open between requests. */
  readonly keepAliveTimeoutMs: number
  /** Open connections at once; more are dropped by the server. */
  readonly maxConnections: number
  /** Body bytes of POST /v1/plan and /v1/apply (a change). */
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
const CHANGE_ROUTES = new Set(['/v1/plan', '/v1/apply'])

/** The body limit of a route. */
export function bodyLimitFor (url: string, limits: HttpEdgeLimits): number {
  return CHANGE_ROUTES.has(url) ? limits.changeBodyBytes : limits.otherBodyBytes
}

/** The error for fastify's own "body too large", naming the route and its limit. */
export function bodyTooLarge (url: string, limits: HttpEdgeLimits): Error {
  const path = url.split('?')[0] ?? url
  return new BodyTooLargeError(path, formatBytes(bodyLimitFor(path, limits)))
}

function formatBytes (n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`
}

// What Node's parser error codes mean, for the client (the parser's own text is terse).
const PARSER_REASONS: Readonly<Record<string, string>> = {
  HPE_INVALID_CHUNK_SIZE: 'invalid chunk size in a chunked body',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length together with Transfer-Encoding: chunked',
  HPE_INVALID_CONTENT_LENGTH: 'invalid or repeated Content-Length',
  HPE_INVALID_TRANSFER_ENCODING: 'invalid Transfer-Encoding',
  HPE_INVALID_HEADER_TOKEN: 'a header name or value holds a character HTTP does not allow (NUL, CR, LF, …)',
  HPE_LF_EXPECTED: 'a line of the request is not terminated by CRLF',
  HPE_INVALID_METHOD: 'unknown HTTP method',
  HPE_INVALID_URL: 'invalid request target',
  HPE_INVALID_VERSION: 'invalid HTTP version',
  HPE_INVALID_CONSTANT: 'the request line or a header is malformed',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'chunk extensions too long'
}

/** The status and error for a request the HTTP parser refused. */
export function clientErrorFor (err: NodeJS.ErrnoException, limits: HttpEdgeLimits): { statusCode: number, error: Error & { code: string } } {
  const code = err.code ?? ''
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { statusCode: 408, error: new HttpRequestTimeoutError(`headers within ${limits.headersTimeoutMs / 1000} s, the whole request within ${limits.requestTimeoutMs / 1000} s`) }
  }
  if (code === 'HPE_HEADER_OVERFLOW') return { statusCode: 431, error: new HttpHeadersTooLargeError('16 KiB') }
  return { statusCode: 400, error: new HttpBadRequestError(PARSER_REASONS[code] ?? 'the request does not follow HTTP/1.1') }
}

/**
 * fastify's clientErrorHandler: answers a request the parser refused with the usual error body,
 * then closes the socket. Nothing is logged at error level: it is the client's fault.
 */
export function clientErrorHandler (limits: HttpEdgeLimits): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return }
    const { statusCode, error } = clientErrorFor(err, limits)
    const body = JSON.stringify({ code: error.code, message: error.message, statusCode })
    const reason = statusCode === 408 ? 'Request Timeout' : statusCode === 431 ? 'Request Header Fields Too Large' : 'Bad Request'
    socket.end(`HTTP/1.1 ${statusCode} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
}
