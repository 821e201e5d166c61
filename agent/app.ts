// The agent's HTTP API, built and never started, so tests can build it without a port: agent/cli.ts reads the TLS files,
// listens and installs the shutdown handling; tests build it with a fake core and call inject()
// or listen on port 0. Every route declares TypeBox schemas for its input and for each response
// status; response schemas serialise, so only declared fields leave the process.
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance, type RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import { changeDefaultsOf, type AgentConfig } from './config.js'
import type { AgentCore } from './core.js'
import { NotFoundError } from './errors.js'
import { secretMaskPlugin } from './plugins/secret-mask.js'
import changeRoutes from './routes/changes.js'
import healthRoutes from './routes/health.js'
import journalRoutes from './routes/journal.js'
import metricsRoutes from './routes/metrics.js'
import statusRoutes from './routes/status.js'
import { errorHandlerPlugin } from '../shared/errors.js'
import type { Logger } from '../shared/logger.js'

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

  const options: FastifyHttpOptions<RawServerDefault> & { https?: HttpsServerOptions } = {
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger
  }
  // Typed as an HTTP server either way: routes only use the request/response contract, which
  // https.Server shares; fastify reads `https` at run time and reports https:// addresses.
  if (tls !== undefined) {
    options.https = { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }
  }
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(TypeBoxValidatorCompiler)

  // Aborted first thing on close: endless streams (journal follow) end so close() can finish.
  const closing = new AbortController()
  app.addHook('preClose', async () => { closing.abort() })

  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS
  app.register(errorHandlerPlugin, { notFound: (method, path) => new NotFoundError(method, path) })
  app.register(secretMaskPlugin)
  app.register(healthRoutes, { core })
  app.register(statusRoutes, { core })
  app.register(changeRoutes, { core, heartbeatMs, closing: closing.signal, changeDefaults: changeDefaultsOf(config) })
  app.register(journalRoutes, { core, heartbeatMs, closing: closing.signal })
  app.register(metricsRoutes, { core })
  return app
}
