// The agent's HTTP API, built and never started, so tests can build it without a port:
// agent/cli.ts reads the TLS files, listens and installs the shutdown handling; tests build it
// with a fake core and call inject() or listen on port 0. The server, its edge, TLS and error
// handling are the shared base (shared/fastify-base.ts); here are the agent's limits, plugins and
// routes. Every route declares TypeBox schemas for its input and for each response status;
// response schemas serialise, so only declared fields leave the process.
import { changeDefaultsOf, type AgentConfig } from './config.js'
import type { AgentCore } from './core.js'
import { HttpBadRequestError, NotFoundError } from './errors.js'
import { HTTP_EDGE_LIMITS, bodyLimitFor, bodyTooLarge, clientErrorHandler, type HttpEdgeLimits } from './http-edge.js'
import { clientPinningPlugin } from './plugins/client-pinning.js'
import { secretMaskPlugin } from './plugins/secret-mask.js'
import changeRoutes from './routes/changes.js'
import healthRoutes from './routes/health.js'
import journalRoutes from './routes/journal.js'
import metricsRoutes from './routes/metrics.js'
import preflightRoutes from './routes/preflight.js'
import rootApiKeyRoutes from './routes/root-api-key.js'
import { ExternalKmsPreflight, type ExternalKmsPreflightPort } from './preflight/external-kms-preflight.js'
import statusRoutes from './routes/status.js'
import { createBaseApp, type BaseApp, type TlsMaterial } from '../shared/fastify-base.js'
import type { Logger } from '../shared/logger.js'
import { tlsPeerNames, type PeerNames } from '../shared/tls-peer-names.js'

/** PEM contents of the files named by `config.tls`. */
export type { TlsMaterial }

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
export type AgentApp = BaseApp

/** Default NDJSON heartbeat interval (R8). */
export const HEARTBEAT_MS = 15_000

/** Builds the API. Throws when `config.tls` is set but `tls` material is missing. */
export function buildAgentApp (deps: AgentAppDeps): AgentApp {
  const { core, config } = deps
  const tls = deps.tls
  if (config.tls !== undefined && tls === undefined) throw new TypeError('buildAgentApp: config.tls is set but no TLS material was given')
  if (config.tls === undefined && config.devInsecureHttp !== true) throw new TypeError('buildAgentApp: config has neither tls nor devInsecureHttp')

  const limits: HttpEdgeLimits = { ...HTTP_EDGE_LIMITS, ...deps.limits }
  // Every caller must show a certificate of clientCa in the handshake (there are no tokens here).
  const { app, closing } = createBaseApp({
    logger: deps.logger,
    limits,
    bodyLimitFor: url => bodyLimitFor(url, limits),
    clientErrorHandler: clientErrorHandler(limits),
    ...(tls === undefined ? {} : { tls: { material: tls, clientCert: 'required' as const } }),
    errors: { notFound: (method, path) => new NotFoundError(method, path), bodyTooLarge: url => bodyTooLarge(url, limits), badRequest: reason => new HttpBadRequestError(reason) }
  })

  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS
  app.register(secretMaskPlugin)
  const allowed = config.tls?.allowedClients
  if (allowed !== undefined) app.register(clientPinningPlugin, { allowed, peerNames: deps.peerNames ?? tlsPeerNames, logger: deps.logger.child({ component: 'tls' }) })
  app.register(healthRoutes, { core })
  app.register(statusRoutes, { core })
  app.register(changeRoutes, { core, heartbeatMs, closing, changeDefaults: changeDefaultsOf(config) })
  app.register(journalRoutes, { core, heartbeatMs, closing })
  app.register(metricsRoutes, { core })
  app.register(rootApiKeyRoutes, { core })
  app.register(preflightRoutes, { preflight: deps.preflight ?? new ExternalKmsPreflight({ node: config.node, configPath: config.files.config.path }) })
  return app
}
