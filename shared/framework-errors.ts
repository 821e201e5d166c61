// Refusals that happen before a route's handler, outside the error handler's reach, given the
// body every other error has (`{ code, message, statusCode }`) and a code of the catalogue:
//  - fastify's own 4xx errors (FST_ codes): a Content-Type no parser reads (415), a path with a
//    bad percent-encoding or a segment longer than fastify's 100 characters (answered by fastify's
//    `frameworkErrors` hook, which bypasses the error handler, with an `error` field and its own
//    code otherwise);
//  - what Node's HTTP server answers by itself with an empty body: an `Expect` header other than
//    100-continue (417), a CONNECT request (the socket was just dropped), an HTTP/1.1 request
//    without Host (400).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { BadUrlError, ExpectationFailedError, UnsupportedMediaTypeError, renderError } from './errors.js'

/** The coded error for a fastify error, or undefined when it is not one translated here. */
export function translateFrameworkError (err: unknown, req: FastifyRequest): Error | undefined {
  switch ((err as { code?: unknown } | null)?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new UnsupportedMediaTypeError(String(req.headers['content-type'] ?? ''))
    case 'FST_ERR_BAD_URL': return new BadUrlError('it holds a bad percent-encoding (a lone %, %zz, or bytes that are not UTF-8); write a literal % as %25')
    case 'FST_ERR_MAX_PARAM_LENGTH': return new BadUrlError('a path segment is longer than 100 characters; no name or id here is that long')
    default: return undefined
  }
}

/** fastify's `frameworkErrors` option: the error rendered as every other one. */
export function frameworkErrors (err: Error, req: FastifyRequest, reply: FastifyReply): void {
  const r = renderError(translateFrameworkError(err, req) ?? err, req)
  reply.code(r.statusCode).type('application/json; charset=utf-8').send(r.body)
}

/** Answers, on `server`, what Node would answer with an empty body or not at all. */
export function answerNodeRefusals (server: Server, badRequest: (reason: string) => Error & { code: string }): void {
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    const e = new ExpectationFailedError()
    writeJson(res, e.statusCode, { code: e.code, message: e.message, statusCode: e.statusCode })
  })
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const e = badRequest('CONNECT is not served here: this is not a proxy')
    const body = JSON.stringify({ code: e.code, message: e.message, statusCode: 400 })
    socket.on('error', () => {})
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  })
}

/** The refusal of an HTTP/1.1 request without a Host header (Node's check is off: it answers no body). */
export function missingHostProblem (req: FastifyRequest): string | undefined {
  return req.raw.httpVersion === '1.1' && (req.headers.host === undefined || req.headers.host === '') ? 'an HTTP/1.1 request needs a Host header' : undefined
}

function writeJson (res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' })
  res.end(text)
}
