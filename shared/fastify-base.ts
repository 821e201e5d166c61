// The fastify server both daemons start from: the HTTP edge (timeouts, a connection bound, a body
// limit per route, the answer to what Node's parser refuses), HTTPS with client certificates
// (refused handshakes logged, rate-limited), strict JSON bodies, the error handler, and a signal
// that fires first thing on close so endless streams end and close() can finish. Each daemon
// names its limits, its errors and whether a client certificate is required, then adds its
// plugins and routes. Hostile requests get the same coded body as every other error, also when
// fastify or Node refuse them before a route (framework-errors.ts); query text is read strictly
// (strict-validator.ts), and a route takes no query parameter or body it does not name.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import Fastify, { type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance, type RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { parseJsonStrict } from './change/json-body.js'
import { errorHandlerPlugin } from './errors.js'
import { answerNodeRefusals, frameworkErrors, missingHostProblem, translateFrameworkError } from './framework-errors.js'
import { serverTimeouts, type EdgeTimeouts } from './http-edge.js'
import type { Logger } from './logger.js'
import { strictValidatorCompiler } from './strict-validator.js'
import { TlsRefusalLog } from './tls-refusals.js'

/** PEM contents of the files named by a daemon's `tls` config. */
export interface TlsMaterial { cert: string | Buffer, key: string | Buffer, clientCa: string | Buffer }

/** A daemon's API instance (TypeBox type provider). */
export type BaseApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

/** What {@link createBaseApp} is built from. */
export interface BaseAppOptions {
  /** The server logs to its `http` child, refused handshakes to its `tls` child. */
  logger: Logger
  limits: EdgeTimeouts & { readonly otherBodyBytes: number }
  /** The body limit of a route by its URL. */
  bodyLimitFor: (url: string) => number
  /** fastify's clientErrorHandler: the daemon's coded answer to what Node's parser refuses. */
  clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => void
  /** HTTPS; `clientCert: 'required'` refuses a handshake without a certificate of clientCa, `'optional'` asks for one. */
  tls?: { material: TlsMaterial, clientCert: 'required' | 'optional' }
  /** The daemon's 404 error, its error for fastify's "body too large", and its edge's bad-request error. */
  errors: { notFound: (method: string, path: string) => Error, bodyTooLarge: (url: string) => Error, badRequest: (reason: string) => Error & { code: string } }
}

/** Creates the server with the edge, TLS, JSON parsing and error handling; `closing` aborts first thing on close. */
export function createBaseApp (o: BaseAppOptions): { app: BaseApp, closing: AbortSignal } {
  const { limits } = o
  const timeouts = serverTimeouts(limits)
  const options: FastifyHttpOptions<RawServerDefault> & { https?: HttpsServerOptions } = {
    loggerInstance: o.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // A stalled or slow client is cut off instead of holding a socket.
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    bodyLimit: limits.otherBodyBytes,
    clientErrorHandler: o.clientErrorHandler,
    // fastify's refusals of a bad path, coded and shaped as every other error (framework-errors.ts).
    frameworkErrors,
    // Node checks the request and headers timeouts on this interval (default 30 s). Its own
    // missing-Host refusal has no body: the hook below refuses such a request instead.
    http: { ...timeouts, requireHostHeader: false }
  }
  // Typed as an HTTP server either way: routes only use the request/response contract, which
  // https.Server shares; fastify reads `https` at run time and reports https:// addresses.
  if (o.tls !== undefined) {
    const { material, clientCert } = o.tls
    options.https = { cert: material.cert, key: material.key, ca: material.clientCa, requestCert: true, rejectUnauthorized: clientCert === 'required', minVersion: 'TLSv1.2', ...timeouts, requireHostHeader: false }
  }
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>()
  // TypeBox's, reading numbers and booleans in a query, path or header strictly (strict-validator.ts).
  app.setValidatorCompiler(strictValidatorCompiler)
  app.server.headersTimeout = limits.headersTimeoutMs
  app.server.maxConnections = limits.maxConnections
  answerNodeRefusals(app.server, o.errors.badRequest)
  app.addHook('onRequest', async (req) => {
    const problem = missingHostProblem(req)
    if (problem !== undefined) throw o.errors.badRequest(problem)
  })
  if (o.tls !== undefined) {
    const refusals = new TlsRefusalLog(o.logger.child({ component: 'tls' }))
    // Addresses are noted at accept time: after a reset the sockets no longer know them.
    const peers = new WeakMap<object, Peer>()
    app.server.on('connection', (raw: Socket) => { peers.set(raw, { remoteAddress: raw.remoteAddress, remotePort: raw.remotePort }) })
    app.server.on('tlsClientError', (err: Error, socket: TLSSocket) => { refusals.record(err, peerOf(socket, peers)) })
  }
  // Per-route body limits, set here so every route gets one without repeating it.
  app.addHook('onRoute', (route) => { route.bodyLimit ??= o.bodyLimitFor(route.url ?? '') })
  // A route that names no query parameters takes none: an unknown one is refused (400), not
  // ignored, so `POST /v1/rollback?check=1` cannot roll back a node whose operator thought it a
  // dry run. Probes (health, metrics, the OpenAPI document) stay lenient for the tools that poll them.
  app.addHook('onRoute', (route) => {
    if (LENIENT_QUERY.test(route.url ?? '')) return
    route.schema = { ...route.schema, querystring: route.schema?.querystring ?? NO_QUERY }
  })
  // Likewise a write route that names no body takes none (nothing, null or {}): a steer sent
  // `{"force": true}` or `{"reason": …}` is refused (400), not obeyed as if the field were read.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (!methods.some(m => BODY_METHODS.has(m))) return
    route.schema = { ...route.schema, body: route.schema?.body ?? NO_BODY }
  })
  // JSON bodies: nesting bounded before parsing, duplicate keys and __proto__/constructor/
  // prototype keys refused (fastify's parser keeps the last duplicate silently).
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : parseJsonStrict(body as string))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  const closing = new AbortController()
  app.addHook('preClose', async () => { closing.abort() })
  app.register(errorHandlerPlugin, {
    notFound: o.errors.notFound,
    translate: (err, req) => (err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? o.errors.bodyTooLarge(req.url) : translateFrameworkError(err, req)
  })
  return { app, closing: closing.signal }
}

/** Routes that ignore a query they do not know (probes and documents that tools poll). */
const LENIENT_QUERY = /^\/(?:health\/|metrics$|openapi\.json$)/

/** Methods whose requests may carry a body. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** The body of a write route that takes none (fastify validates an absent body as null). */
export const NO_BODY = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()], { description: 'no body, or {}' })

/** The query of a route that takes none. */
const NO_QUERY = Type.Object({}, { additionalProperties: false })

interface Peer { remoteAddress?: string | undefined, remotePort?: number | undefined }

// The peer of a TLS socket whose handshake failed, from the TCP socket underneath (`_parent`).
function peerOf (socket: TLSSocket, peers: WeakMap<object, Peer>): Peer {
  const parent = (socket as TLSSocket & { _parent?: object | null })._parent
  return (parent == null ? undefined : peers.get(parent)) ?? { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort }
}
