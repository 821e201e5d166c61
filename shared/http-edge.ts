// What both daemons' HTTP edges share: the bounds every server gets, and the answer to a request
// Node's HTTP parser refuses before fastify sees it. Each daemon names its own limits and its own
// coded errors (agent/http-edge.ts, coordinator/http-edge.ts); the answer always has the body every
// other error has, `{ code, message, statusCode }`.
import type { Socket } from 'node:net'

/** Timeouts (ms) and bounds of an HTTP server. */
export interface EdgeTimeouts {
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

/** A daemon's coded errors for the three kinds of parser refusal. */
export interface EdgeErrors {
  badRequest: (reason: string) => Error & { code: string }
  requestTimeout: (detail: string) => Error & { code: string }
  headersTooLarge: (limit: string) => Error & { code: string }
}

/** The status and error for a request the HTTP parser refused. */
export function parserErrorFor (err: NodeJS.ErrnoException, limits: EdgeTimeouts, errors: EdgeErrors): { statusCode: number, error: Error & { code: string } } {
  const code = err.code ?? ''
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { statusCode: 408, error: errors.requestTimeout(`headers within ${limits.headersTimeoutMs / 1000} s, the whole request within ${limits.requestTimeoutMs / 1000} s`) }
  }
  if (code === 'HPE_HEADER_OVERFLOW') return { statusCode: 431, error: errors.headersTooLarge('16 KiB') }
  return { statusCode: 400, error: errors.badRequest(PARSER_REASONS[code] ?? 'the request does not follow HTTP/1.1') }
}

/**
 * fastify's clientErrorHandler: answers a request the parser refused with the usual error body,
 * then closes the socket. Nothing is logged at error level: it is the client's fault.
 */
export function parserErrorHandler (limits: EdgeTimeouts, errors: EdgeErrors): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return }
    const { statusCode, error } = parserErrorFor(err, limits, errors)
    const body = JSON.stringify({ code: error.code, message: error.message, statusCode })
    const reason = statusCode === 408 ? 'Request Timeout' : statusCode === 431 ? 'Request Header Fields Too Large' : 'Bad Request'
    socket.end(`HTTP/1.1 ${statusCode} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
}

/** `1048576` → `1 MiB`, for body-limit messages. */
export function formatBytes (n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`
}

/** The server options every edge sets from its limits (Node checks timeouts on this interval). */
export function serverTimeouts (limits: EdgeTimeouts): { headersTimeout: number, requestTimeout: number, connectionsCheckingInterval: number } {
  return { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs) }
}
