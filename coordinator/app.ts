// The coordinator's HTTP API, built and never started: main.ts reads the TLS files and listens;
// tests build it with fakes and call inject() or listen on port 0. Every route declares TypeBox
// schemas for its input and each response status (response schemas serialise, so only declared
// fields leave the process) and its access rule (auth/auth-hook.ts). The parts the API drives are
// ports (CoordinatorAppDeps); the composition root (deps.ts) wires the real ones.
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance, type RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { parseJsonStrict } from '../shared/change/json-body.js'
import { errorHandlerPlugin } from '../shared/errors.js'
import { serverTimeouts } from '../shared/http-edge.js'
import type { Logger } from '../shared/logger.js'
import { tlsPeerNames, type PeerNames } from '../shared/tls-peer-names.js'
import { TlsRefusalLog } from '../shared/tls-refusals.js'
import { authPlugin } from './auth/auth-hook.js'
import { HEALTH_TIMEOUT_MS } from './cluster-health.js'
import type { CoordinatorConfig } from './config-schema.js'
import { NotFoundError } from './errors.js'
import { COORDINATOR_EDGE_LIMITS, bodyLimitFor, bodyTooLarge, clientErrorHandler, type CoordinatorEdgeLimits } from './http-edge.js'
import { createCoordinatorMetrics, type CoordinatorMetrics } from './metrics.js'
import { collectOpenApi } from './openapi.js'
import type { AgentClient } from './ports/agent-client.js'
import type { ClusterProbe } from './ports/cluster-probe.js'
import type { RolloutControl, SlotControl } from './ports/rollout-control.js'
import type { RolloutStore } from './store/rollout-store.js'
import auditRoutes from './routes/audit.js'
import clusterRoutes from './routes/clusters.js'
import eventRoutes from './routes/events.js'
import healthRoutes, { type CoordinatorReady } from './routes/health.js'
import planRoutes from './routes/plans.js'
import rolloutRoutes from './routes/rollouts.js'
import slotRoutes from './routes/slots.js'

/** PEM contents of the files named by `config.tls`. */
export interface TlsMaterial { cert: string | Buffer, key: string | Buffer, clientCa: string | Buffer }

/** What the API is built from: ports, so tests hand in fakes and deps.ts the real parts. */
export interface CoordinatorAppDeps {
  logger: Logger
  /** Plans, rollouts, events (the engine). */
  control: RolloutControl
  /** Boot slots (the engine). */
  slots: SlotControl
  /** Tokens (auth) and the audit log. */
  store: Pick<RolloutStore, 'tokenByHash' | 'audit'>
  /** Live node health: the agents… */
  agents: Pick<AgentClient, 'status' | 'ready'>
  /** …and minkms. */
  probe: Pick<ClusterProbe, 'ready'>
  /** Readiness (store open, engine running). */
  ready: () => Promise<CoordinatorReady>
  /** Required when `config.tls` is set: HTTPS that asks clients for a certificate from clientCa. */
  tls?: TlsMaterial
  /** Heartbeat interval of event streams in ms (default 15 000; 0 disables). */
  heartbeatMs?: number
  /** Per-node timeout of the health views in ms (default 3000). */
  healthTimeoutMs?: number
  /** Timeouts and bounds of the HTTP edge (default COORDINATOR_EDGE_LIMITS; tests shorten them). */
  limits?: Partial<CoordinatorEdgeLimits>
  /** Names of a request's verified client certificate (default: from the TLS socket). */
  peerNames?: PeerNames
  /** Export Node process metrics too (the daemon does; tests do not). */
  processMetrics?: boolean
}

/** The API instance (TypeBox type provider). */
export type CoordinatorApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

/** Default heartbeat interval of event streams. */
export const HEARTBEAT_MS = 15_000

/** Builds the API. Throws when `config.tls` is set but no TLS material was given. */
export function buildCoordinatorApp (deps: CoordinatorAppDeps, config: CoordinatorConfig): CoordinatorApp {
  const tls = deps.tls
  if (config.tls !== undefined && tls === undefined) throw new TypeError('buildCoordinatorApp: config.tls is set but no TLS material was given')
  if (config.tls === undefined && config.devInsecureHttp !== true) throw new TypeError('buildCoordinatorApp: config has neither tls nor devInsecureHttp')

  const limits: CoordinatorEdgeLimits = { ...COORDINATOR_EDGE_LIMITS, ...deps.limits }
  const timeouts = serverTimeouts(limits)
  const options: FastifyHttpOptions<RawServerDefault> & { https?: HttpsServerOptions } = {
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    bodyLimit: limits.otherBodyBytes,
    clientErrorHandler: clientErrorHandler(limits),
    http: timeouts
  }
  if (tls !== undefined) {
    // Client certificates are asked for but optional in the handshake: operators come with tokens,
    // agents with certificates, and the slot routes check `authorized` themselves.
    options.https = { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2', ...timeouts }
  }
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(TypeBoxValidatorCompiler)
  app.server.headersTimeout = limits.headersTimeoutMs
  app.server.maxConnections = limits.maxConnections
  if (tls !== undefined) {
    const refusals = new TlsRefusalLog(deps.logger.child({ component: 'tls' }))
    const peers = new WeakMap<object, { remoteAddress?: string | undefined, remotePort?: number | undefined }>()
    app.server.on('connection', (raw: Socket) => { peers.set(raw, { remoteAddress: raw.remoteAddress, remotePort: raw.remotePort }) })
    app.server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      const parent = (socket as TLSSocket & { _parent?: object | null })._parent
      refusals.record(err, (parent == null ? undefined : peers.get(parent)) ?? { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort })
    })
  }
  app.addHook('onRoute', (route) => { route.bodyLimit ??= bodyLimitFor(route.url ?? '', limits) })
  // JSON bodies outside the change routes: nesting bounded, duplicate and prototype keys refused.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : parseJsonStrict(body as string))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  const openapi = collectOpenApi(app, { title: 'keyroll-coordinator', version: '1' })

  const closing = new AbortController()
  app.addHook('preClose', async () => { closing.abort() })

  const metrics: CoordinatorMetrics = createCoordinatorMetrics({
    rollouts: async () => await deps.control.list({ limit: 1000 }),
    ...(deps.processMetrics === undefined ? {} : { processMetrics: deps.processMetrics })
  })
  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
  })

  app.register(errorHandlerPlugin, {
    notFound: (method, path) => new NotFoundError(`no route ${method} ${path}`),
    translate: (err, req) => (err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? bodyTooLarge(req.url, limits) : undefined
  })
  app.register(authPlugin, { store: deps.store })
  app.register(healthRoutes, { ready: deps.ready, metrics: metrics.render })
  app.get('/openapi.json', { config: { access: 'public' } }, async () => openapi())
  app.register(clusterRoutes, { config, health: { agents: deps.agents, probe: deps.probe, timeoutMs: deps.healthTimeoutMs ?? HEALTH_TIMEOUT_MS }, control: deps.control })
  app.register(planRoutes, { control: deps.control })
  app.register(rolloutRoutes, { control: deps.control })
  app.register(eventRoutes, { control: deps.control, heartbeatMs: deps.heartbeatMs ?? HEARTBEAT_MS, closing: closing.signal, onStream: metrics.streams })
  app.register(auditRoutes, { store: deps.store })
  app.register(slotRoutes, { config, slots: deps.slots, peerNames: deps.peerNames ?? tlsPeerNames })
  return app
}
