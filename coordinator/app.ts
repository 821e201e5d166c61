// The coordinator's HTTP API, built and never started: main.ts reads the TLS files and listens;
// tests build it with fakes and call inject() or listen on port 0. Every route declares TypeBox
// schemas for its input and each response status (response schemas serialise, so only declared
// fields leave the process) and its access rule (auth/auth-hook.ts). The parts the API drives are
// ports (CoordinatorAppDeps); the composition root (deps.ts) wires the real ones.
import { createBaseApp, type BaseApp, type TlsMaterial } from '../shared/fastify-base.js'
import type { Logger } from '../shared/logger.js'
import { tlsPeerNames, type PeerNames } from '../shared/tls-peer-names.js'
import { authPlugin } from './auth/auth-hook.js'
import { HEALTH_TIMEOUT_MS } from './cluster-health.js'
import { NodeHealthCache } from './node-health-cache.js'
import type { CoordinatorConfig } from './config-schema.js'
import { nodeRefs } from './config.js'
import { HttpBadRequestError, NotFoundError } from './errors.js'
import { COORDINATOR_EDGE_LIMITS, bodyLimitFor, bodyTooLarge, clientErrorHandler, type CoordinatorEdgeLimits } from './http-edge.js'
import { createCoordinatorMetrics, type CoordinatorMetrics } from './metrics.js'
import { collectOpenApi } from './openapi.js'
import type { AgentClient } from './ports/agent-client.js'
import type { ClusterProbe } from './ports/cluster-probe.js'
import type { HsmMigrationControl } from './ports/hsm-migration-control.js'
import type { RolloutControl, SlotControl } from './ports/rollout-control.js'
import type { RootKeyControl } from './ports/root-key-control.js'
import type { RolloutStore } from './store/rollout-store.js'
import auditRoutes from './routes/audit.js'
import clusterRoutes from './routes/clusters.js'
import eventRoutes from './routes/events.js'
import healthRoutes, { type CoordinatorReady } from './routes/health.js'
import hsmMigrationRoutes from './routes/hsm-migrations.js'
import planRoutes from './routes/plans.js'
import rolloutRoutes from './routes/rollouts.js'
import rootKeyRoutes from './routes/root-keys.js'
import slotRoutes from './routes/slots.js'

/** PEM contents of the files named by `config.tls`. */
export type { TlsMaterial }

/** What the API is built from: ports, so tests hand in fakes and deps.ts the real parts. */
export interface CoordinatorAppDeps {
  logger: Logger
  /** Plans, rollouts, events (the engine). */
  control: RolloutControl
  /** Boot slots (the engine). */
  slots: SlotControl
  /** HSM migrations (the orchestrator); without it the /v1/hsm-migrations routes do not exist. */
  migrations?: HsmMigrationControl
  /** Clusters' adopted root API keys; without it the hand-over route does not exist and views show no `rootKey`. */
  rootKeys?: RootKeyControl
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
  /** Age after which the health views refresh a node's answer behind the view, ms (default 5000). */
  healthTtlMs?: number
  /** Age from which the health views wait for a fresh answer, ms (default 60 000; with healthTtlMs 0, 0: asked on every view). */
  healthMaxStaleMs?: number
  /** Timeouts and bounds of the HTTP edge (default COORDINATOR_EDGE_LIMITS; tests shorten them). */
  limits?: Partial<CoordinatorEdgeLimits>
  /** Names of a request's verified client certificate (default: from the TLS socket). */
  peerNames?: PeerNames
  /** Export Node process metrics too (the daemon does; tests do not). */
  processMetrics?: boolean
}

/** The API instance (TypeBox type provider). */
export type CoordinatorApp = BaseApp

/** Default heartbeat interval of event streams. */
export const HEARTBEAT_MS = 15_000

/** Builds the API. Throws when `config.tls` is set but no TLS material was given. */
export function buildCoordinatorApp (deps: CoordinatorAppDeps, config: CoordinatorConfig): CoordinatorApp {
  const tls = deps.tls
  if (config.tls !== undefined && tls === undefined) throw new TypeError('buildCoordinatorApp: config.tls is set but no TLS material was given')
  if (config.tls === undefined && config.devInsecureHttp !== true) throw new TypeError('buildCoordinatorApp: config has neither tls nor devInsecureHttp')

  const limits: CoordinatorEdgeLimits = { ...COORDINATOR_EDGE_LIMITS, ...deps.limits }
  // Client certificates are asked for but optional in the handshake: operators come with tokens,
  // agents with certificates, and the slot routes check `authorized` themselves.
  const { app, closing } = createBaseApp({
    logger: deps.logger,
    limits,
    bodyLimitFor: url => bodyLimitFor(url, limits),
    clientErrorHandler: clientErrorHandler(limits),
    ...(tls === undefined ? {} : { tls: { material: tls, clientCert: 'optional' as const } }),
    errors: { notFound: (method, path) => new NotFoundError(`no route ${method} ${path}`), bodyTooLarge: url => bodyTooLarge(url, limits), badRequest: reason => new HttpBadRequestError(reason) }
  })
  const openapi = collectOpenApi(app, { title: 'keyroll-coordinator', version: '1' })

  const metrics: CoordinatorMetrics = createCoordinatorMetrics({
    rollouts: async () => await deps.control.list({ limit: 1000 }),
    ...(deps.processMetrics === undefined ? {} : { processMetrics: deps.processMetrics })
  })
  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
  })

  app.register(authPlugin, { store: deps.store })
  app.register(healthRoutes, { ready: deps.ready, metrics: metrics.render })
  app.get('/openapi.json', { config: { access: 'public' } }, async () => openapi())
  // The configuration is fixed for the process: the cache keeps answers of these nodes only.
  const configuredNodes = nodeRefs(config)
  const health = new NodeHealthCache({
    sources: { agents: deps.agents, probe: deps.probe, timeoutMs: deps.healthTimeoutMs ?? HEALTH_TIMEOUT_MS },
    ...(deps.healthTtlMs === undefined ? {} : { ttlMs: deps.healthTtlMs }),
    ...(deps.healthMaxStaleMs === undefined ? {} : { maxStaleMs: deps.healthMaxStaleMs }),
    configured: () => configuredNodes
  })
  app.register(clusterRoutes, { config, health, control: deps.control, ...(deps.rootKeys === undefined ? {} : { rootKeys: deps.rootKeys }) })
  if (deps.rootKeys !== undefined) app.register(rootKeyRoutes, { rootKeys: deps.rootKeys })
  app.register(planRoutes, { control: deps.control })
  app.register(rolloutRoutes, { control: deps.control })
  app.register(eventRoutes, { control: deps.control, heartbeatMs: deps.heartbeatMs ?? HEARTBEAT_MS, closing, onStream: metrics.streams })
  if (deps.migrations !== undefined) {
    app.register(hsmMigrationRoutes, { migrations: deps.migrations, heartbeatMs: deps.heartbeatMs ?? HEARTBEAT_MS, closing, onStream: metrics.streams })
  }
  app.register(auditRoutes, { store: deps.store })
  app.register(slotRoutes, { config, slots: deps.slots, peerNames: deps.peerNames ?? tlsPeerNames })
  return app
}
