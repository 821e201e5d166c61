// The agent's HTTP API, built and never started, so tests can build it without a port: agent/cli.ts reads the TLS files,
// listens and installs the shutdown handling; tests build it with a fake core and call inject()
// or listen on port 0. Every route declares TypeBox schemas for its input and for each response
// status; response schemas serialise, so only declared fields leave the process.
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance, type RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { changeDefaultsOf, type AgentConfig } from './config.js'
import type { AgentCore } from './core.js'
import { NotFoundError } from './errors.js'
import { HTTP_EDGE_LIMITS, bodyLimitFor, bodyTooLarge, clientErrorHandler, type HttpEdgeLimits } from './http-edge.js'
import { TlsRefusalLog } from '../shared/tls-refusals.js'
import { clientPinningPlugin } from './plugins/client-pinning.js'
import { secretMaskPlugin } from './plugins/secret-mask.js'
import changeRoutes from './routes/changes.js'
import healthRoutes from './routes/health.js'
import journalRoutes from './routes/journal.js'
import metricsRoutes from './routes/metrics.js'
import preflightRoutes from './routes/preflight.js'
import { ExternalKmsPreflight, type ExternalKmsPreflightPort } from './preflight/external-kms-preflight.js'
import statusRoutes from './routes/status.js'
import { parseJsonStrict } from '../shared/change/json-body.js'
import { errorHandlerPlugin } from '../shared/errors.js'
import type { Logger } from '../shared/logger.js'
import { tlsPeerNames, type PeerNames } from '../shared/tls-peer-names.js'

/** PEM contents of the files named by `config.tls`. */
export interface TlsMaterial { cert: string | Buffer, key: string | Buffer, clientCa: string | Buffer }

/** What the API is built from. */
export interface AgentAppDeps {
  core: AgentCore
  config: AgentConfig
  logger: Logger
  /** Required when `config.tls` is set: HTTPS that demands a client certificate from clientCa. */
  tls?: TlsMaterial
  /** Heartbeat interval of NDJSON streams in ms (default 15 000; 0 disables). */
  heartbeatMs?: number
  /** Timeouts and bounds of the HTTP edge (default HTTP_EDGE_LIMITS; tests shorten them). */
  limits?: Partial<HttpEdgeLimits>
  /** The external Key Manager preflight (default: the real one, reading the managed minkms config). */
  preflight?: ExternalKmsPreflightPort
  /** Names of the caller's client certificate, for `tls.allowedClients` (default: from the TLS socket; inject() tests pass their own). */
  peerNames?: PeerNames
}

/** The API instance (TypeBox type provider). */
export type AgentApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

/** Default NDJSON heartbeat interval (R8). */
export const HEARTBEAT_MS = 15_000

/** Builds the API. Throws when `config.tls` is set but `tls` material is missing. */
export function buildAgentApp (deps: AgentAppDeps): AgentApp {
  const { core, config } = deps
  const tls = deps.tls
  if (config.tls !== undefined && tls === undefined) throw new TypeError('buildAgentApp: config.tls is set but no TLS material was given')
  if (config.tls === undefined && config.devInsecureHttp !== true) throw new TypeError('buildAgentApp: config has neither tls nor devInsecureHttp')

  const limits: HttpEdgeLimits = { ...HTTP_EDGE_LIMITS, ...deps.limits }
  const serverTimeouts = { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs) }
  const options: FastifyHttpOptions<RawServerDefault> & { https?: HttpsServerOptions } = {
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Timeouts as in http-edge.ts: a stalled or slow client is cut off instead of holding a socket.
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    bodyLimit: limits.otherBodyBytes,
    clientErrorHandler: clientErrorHandler(limits),
    // Node checks the request and headers timeouts on this interval (default 30 s).
    http: serverTimeouts
  }
  // Typed as an HTTP server either way: routes only use the request/response contract, which
  // https.Server shares; fastify reads `https` at run time and reports https:// addresses.
  if (tls !== undefined) {
    options.https = { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', ...serverTimeouts }
  }
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(TypeBoxValidatorCompiler)
  app.server.headersTimeout = limits.headersTimeoutMs
  app.server.maxConnections = limits.maxConnections
  if (tls !== undefined) {
    const refusals = new TlsRefusalLog(deps.logger.child({ component: 'tls' }))
    // Addresses are noted at accept time: after a reset the sockets no longer know them.
    const peers = new WeakMap<object, { remoteAddress?: string | undefined, remotePort?: number | undefined }>()
    app.server.on('connection', (raw: Socket) => { peers.set(raw, { remoteAddress: raw.remoteAddress, remotePort: raw.remotePort }) })
    app.server.on('tlsClientError', (err: Error, socket: TLSSocket) => { refusals.record(err, peerOf(socket, peers)) })
  }
  // Per-route body limits, set here so every route gets one without repeating it.
  app.addHook('onRoute', (route) => { route.bodyLimit ??= bodyLimitFor(route.url ?? '', limits) })
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

  // Aborted first thing on close: endless streams (journal follow) end so close() can finish.
  const closing = new AbortController()
  app.addHook('preClose', async () => { closing.abort() })

  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS
  app.register(errorHandlerPlugin, {
    notFound: (method, path) => new NotFoundError(method, path),
    translate: (err, req) => (err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? bodyTooLarge(req.url, limits) : undefined
  })
  app.register(secretMaskPlugin)
  const allowed = config.tls?.allowedClients
  if (allowed !== undefined) app.register(clientPinningPlugin, { allowed, peerNames: deps.peerNames ?? tlsPeerNames, logger: deps.logger.child({ component: 'tls' }) })
  app.register(healthRoutes, { core })
  app.register(statusRoutes, { core })
  app.register(changeRoutes, { core, heartbeatMs, closing: closing.signal, changeDefaults: changeDefaultsOf(config) })
  app.register(journalRoutes, { core, heartbeatMs, closing: closing.signal })
  app.register(metricsRoutes, { core })
  app.register(preflightRoutes, { preflight: deps.preflight ?? new ExternalKmsPreflight({ node: config.node, configPath: config.files.config.path }) })
  return app
}

// The peer of a TLS socket whose handshake failed, from the TCP socket underneath (`_parent`).
function peerOf (socket: TLSSocket, peers: WeakMap<object, { remoteAddress?: string | undefined, remotePort?: number | undefined }>): { remoteAddress?: string | undefined, remotePort?: number | undefined } {
  const parent = (socket as TLSSocket & { _parent?: object | null })._parent
  return (parent == null ? undefined : peers.get(parent)) ?? { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort }
}
