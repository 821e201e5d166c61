// `keyroll-agent serve`: the daemon. Reads config and TLS material (bad ones exit 2 before
// anything starts), builds the core in daemon mode, listens, and stops on SIGTERM/SIGINT
// (close-with-grace) or, in tests, on an AbortSignal (shared/daemon-run.ts).
import { buildAgentApp, type TlsMaterial } from '../app.js'
import type { AgentConfig } from '../config.js'
import { TlsUnreadableError } from '../errors.js'
import { loadConfig, reportError, rootLogger, type CommonOptions } from './command.js'
import type { RunningCore } from '../core.js'
import { createCore } from '../deps.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'
import { readTlsFiles, runDaemon } from '../../shared/daemon-run.js'

/** The daemon: resolves when it stopped (in production close-with-grace exits the process). */
export async function serve (o: CommonOptions & { listenHost?: string, listenPort?: string }, io: CliIo, deps: CliDeps): Promise<number> {
  let config: AgentConfig
  let tls: TlsMaterial | undefined
  try {
    config = await loadConfig(o, deps)
    tls = await readTlsFiles(config.tls, (field, path, reason) => new TlsUnreadableError(field, path, reason))
  } catch (err) {
    reportError(io, err)
    return EXIT.badInput
  }
  const log = rootLogger(config, deps.logDestination)
  let core: RunningCore
  try {
    core = await (deps.createCore ?? createCore)(config, log, { mode: 'daemon' })
  } catch (err) {
    log.fatal({ err }, 'core failed to start')
    return EXIT.failed
  }
  const app = buildAgentApp({ core, config, logger: log, ...(tls === undefined ? {} : { tls }) })
  const ok = await runDaemon({
    app,
    closeParts: async () => { await core.close() },
    log,
    listen: config.listen,
    devInsecureHttp: config.devInsecureHttp === true,
    listening: { tls: tls !== undefined },
    stopSignal: deps.stopSignal,
    onListening: deps.onListening
  })
  return ok ? EXIT.ok : EXIT.failed
}
