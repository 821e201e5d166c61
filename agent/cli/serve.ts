// `keyroll-agent serve`: the daemon. Reads config and TLS material (bad ones exit 2 before
// anything starts), builds the core in daemon mode, listens, and stops on SIGTERM/SIGINT
// (close-with-grace) or, in tests, on an AbortSignal.
import closeWithGrace from 'close-with-grace'
import { readFile } from 'node:fs/promises'
import { buildAgentApp, type TlsMaterial } from '../app.js'
import type { AgentConfig } from '../config.js'
import { TlsUnreadableError } from '../errors.js'
import { loadConfig, reportError, rootLogger, type CommonOptions } from './command.js'
import type { RunningCore } from '../core.js'
import { createCore } from '../deps.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'

async function readTls (config: AgentConfig): Promise<TlsMaterial | undefined> {
  if (config.tls === undefined) return undefined
  const read = async (field: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path)
    } catch (err) {
      throw new TlsUnreadableError(field, path, (err as NodeJS.ErrnoException).code ?? (err as Error).message)
    }
  }
  return { cert: await read('tls.cert', config.tls.cert), key: await read('tls.key', config.tls.key), clientCa: await read('tls.clientCa', config.tls.clientCa) }
}

/** The daemon: resolves when it stopped (in production close-with-grace exits the process). */
export async function serve (o: CommonOptions & { listenHost?: string, listenPort?: string }, io: CliIo, deps: CliDeps): Promise<number> {
  let config: AgentConfig
  let tls: TlsMaterial | undefined
  try {
    config = await loadConfig(o, deps)
    tls = await readTls(config)
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
  let stopped: () => void = () => {}
  const done = new Promise<void>(resolve => { stopped = resolve })
  const stop = async (): Promise<void> => {
    try {
      await app.close()
    } finally {
      await core.close()
      stopped()
    }
  }
  const grace = deps.stopSignal === undefined
    ? closeWithGrace({ delay: 10_000, logger: { error: (m: unknown) => { log.error({ detail: m }, 'shutdown') } } }, async ({ err, signal }) => {
      if (err !== undefined) log.error({ err }, 'fatal error, shutting down')
      else log.info({ signal }, 'shutting down')
      await stop()
    })
    : undefined
  deps.stopSignal?.addEventListener('abort', () => { stop().catch((err: unknown) => { log.error({ err }, 'shutdown failed') }) }, { once: true })
  if (config.devInsecureHttp === true) log.warn({ host: config.listen.host }, 'plain http on loopback: development only')
  try {
    const address = await app.listen({ host: config.listen.host, port: config.listen.port })
    log.info({ address, tls: tls !== undefined }, 'listening')
    deps.onListening?.(address)
  } catch (err) {
    log.fatal({ err }, 'cannot listen')
    grace?.uninstall()
    await stop()
    return EXIT.failed
  }
  await done
  grace?.uninstall()
  return EXIT.ok
}
