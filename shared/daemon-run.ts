// What both daemons do once their parts are built: listen, then stop on SIGTERM/SIGINT
// (close-with-grace, 10 s for in-flight requests and streams) or, in tests, on an AbortSignal.
// Stopping closes the API first (streams end, in-flight requests finish), then the daemon's own
// parts; asked twice, it stops once. And reading the TLS files a config names, so a missing or
// unreadable one stops the start with the daemon's coded error (exit 2) before anything runs.
import closeWithGrace from 'close-with-grace'
import { readFile } from 'node:fs/promises'
import type { TlsMaterial } from './fastify-base.js'
import type { Logger } from './logger.js'

/** Reads `cert`, `key` and `clientCa`; `unreadable` makes the daemon's error for a file that cannot be read. */
export async function readTlsFiles (tls: { cert: string, key: string, clientCa: string } | undefined, unreadable: (field: string, path: string, reason: string) => Error): Promise<TlsMaterial | undefined> {
  if (tls === undefined) return undefined
  const read = async (field: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path)
    } catch (err) {
      throw unreadable(field, path, (err as NodeJS.ErrnoException).code ?? (err as Error).message)
    }
  }
  return { cert: await read('tls.cert', tls.cert), key: await read('tls.key', tls.key), clientCa: await read('tls.clientCa', tls.clientCa) }
}

/** What {@link runDaemon} runs. */
export interface DaemonRun {
  app: { listen: (o: { host: string, port: number }) => Promise<string>, close: () => Promise<unknown> }
  /** Closes the daemon's parts, after the API. */
  closeParts: () => Promise<void>
  log: Logger
  listen: { host: string, port: number }
  devInsecureHttp: boolean
  /** Fields of the `listening` line besides the address. */
  listening: Record<string, unknown>
  /** Tests: stop on abort instead of on signals. */
  stopSignal?: AbortSignal | undefined
  /** Tests: told the listening address. */
  onListening?: ((address: string) => void) | undefined
}

/** Listens and resolves once stopped: true after a clean stop, false when it could not listen. */
export async function runDaemon (o: DaemonRun): Promise<boolean> {
  const { app, log } = o
  let stopped: () => void = () => {}
  const done = new Promise<void>(resolve => { stopped = resolve })
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await app.close()
      } finally {
        await o.closeParts()
        stopped()
      }
    })()
    await stopping
  }
  const grace = o.stopSignal === undefined
    ? closeWithGrace({ delay: 10_000, logger: { error: (m: unknown) => { log.error({ detail: m }, 'shutdown') } } }, async ({ err, signal }) => {
      if (err !== undefined) log.error({ err }, 'fatal error, shutting down')
      else log.info({ signal }, 'shutting down')
      await stop()
    })
    : undefined
  o.stopSignal?.addEventListener('abort', () => { stop().catch((err: unknown) => { log.error({ err }, 'shutdown failed') }) }, { once: true })
  if (o.devInsecureHttp) log.warn({ host: o.listen.host }, 'plain http on loopback: development only')
  try {
    const address = await app.listen({ host: o.listen.host, port: o.listen.port })
    log.info({ address, ...o.listening }, 'listening')
    o.onListening?.(address)
  } catch (err) {
    log.fatal({ err }, 'cannot listen')
    grace?.uninstall()
    await stop()
    return false
  }
  await done
  grace?.uninstall()
  return true
}
