// `keyroll-coordinator serve`: the daemon. Reads the config and the TLS files (bad ones exit 2
// before anything starts), builds the parts (store, engine, agent client, probe) through the
// composition root, listens, and stops on SIGTERM/SIGINT (close-with-grace) or, in tests, on an
// AbortSignal (shared/daemon-run.ts). Stopping closes the API first (streams end, in-flight requests finish), then the
// parts: the engine stops between steps and the store is closed, so a restart resumes.
import type { ConfigFlag } from '../shared/config-loader.js'
import { readTlsFiles, runDaemon } from '../shared/daemon-run.js'
import { maskSecrets, type Logger } from '../shared/logger.js'
import { buildCoordinatorApp, type TlsMaterial } from './app.js'
import type { CoordinatorConfig } from './config-schema.js'
import { loadCoordinatorConfig } from './config.js'
import type { CoordinatorParts, CreateCoordinatorParts } from './deps.js'
import { TlsUnreadableError } from './errors.js'
import { createCoordinatorLogger, maskTokens } from './logger.js'

/** Exit codes: 0 stopped cleanly, 1 failed at run time, 2 bad config (systemd does not restart it). */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const

/** Output streams. */
export interface ServeIo { stdout: { write: (s: string) => unknown }, stderr: { write: (s: string) => unknown } }

/** What serve is built from. */
export interface ServeDeps {
  createParts: CreateCoordinatorParts
  /** Environment for the config's env layer (default process.env). */
  env?: Readonly<Record<string, string | undefined>>
  /** Tests: stop on abort instead of on signals. */
  stopSignal?: AbortSignal
  /** Tests: told the listening address. */
  onListening?: (address: string) => void
  /** Tests: where log lines go (default stdout). */
  logDestination?: { write: (line: string) => unknown }
  /** Tests: shorter heartbeats. */
  heartbeatMs?: number
}

/** Options of serve (from the command line). */
export interface ServeOptions { config?: string, logLevel?: string, listenHost?: string, listenPort?: string }

function flagsOf (o: ServeOptions): ConfigFlag[] {
  const flags: ConfigFlag[] = []
  if (o.logLevel !== undefined) flags.push({ path: ['log', 'level'], value: o.logLevel, source: '--log-level' })
  if (o.listenHost !== undefined) flags.push({ path: ['listen', 'host'], value: o.listenHost, source: '--listen-host' })
  if (o.listenPort !== undefined) flags.push({ path: ['listen', 'port'], value: o.listenPort, source: '--listen-port' })
  return flags
}

function report (io: ServeIo, err: unknown): void {
  const e = err as { code?: unknown, message?: unknown }
  io.stderr.write(`error: ${typeof e.code === 'string' ? `${e.code}: ` : ''}${maskTokens(maskSecrets(String(e.message ?? err)))}\n`)
}

/** The daemon: resolves with the exit code once it stopped. */
export async function serve (o: ServeOptions, io: ServeIo, deps: ServeDeps): Promise<number> {
  let config: CoordinatorConfig
  let tls: TlsMaterial | undefined
  try {
    config = await loadCoordinatorConfig({ flags: flagsOf(o), ...(o.config === undefined ? {} : { file: o.config }), ...(deps.env === undefined ? {} : { env: deps.env }) })
    tls = await readTlsFiles(config.tls, (field, path, reason) => new TlsUnreadableError(field, path, reason))
  } catch (err) {
    report(io, err)
    return EXIT.badInput
  }
  const log: Logger = createCoordinatorLogger({ level: config.log.level, base: { name: 'keyroll-coordinator' }, ...(deps.logDestination === undefined ? {} : { destination: deps.logDestination }) })
  let parts: CoordinatorParts
  try {
    parts = await deps.createParts(config, log)
  } catch (err) {
    log.fatal({ err }, 'the coordinator\'s parts failed to start')
    return EXIT.failed
  }
  const app = buildCoordinatorApp({
    ...parts,
    logger: log,
    processMetrics: deps.stopSignal === undefined,
    ...(tls === undefined ? {} : { tls }),
    ...(deps.heartbeatMs === undefined ? {} : { heartbeatMs: deps.heartbeatMs })
  }, config)
  const ok = await runDaemon({
    app,
    closeParts: async () => { await parts.close() },
    log,
    listen: config.listen,
    devInsecureHttp: config.devInsecureHttp === true,
    listening: { tls: tls !== undefined, clusters: config.clusters.map(c => c.name) },
    stopSignal: deps.stopSignal,
    onListening: deps.onListening
  })
  return ok ? EXIT.ok : EXIT.failed
}
