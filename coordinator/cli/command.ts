// Shared plumbing of the API commands: the connection from flags and environment, one API client
// per run (closed at the end), and errors mapped to exit codes with the server's code, message and
// problems.
import { maskSecrets } from '../../shared/logger.js'
import { CoordinatorApi } from './api-client.js'
import { resolveConnection, type ConnectionOptions } from './connection.js'
import { ApiError } from './errors.js'
import { EXIT, type CliDeps, type CliIo } from './types.js'

const DEFAULT_TIMEOUT_MS = 60_000

/** Options every API command takes. */
export interface ApiOptions extends ConnectionOptions { json?: boolean }

/** Runs `run` with an API client; errors are reported and mapped to exit codes. */
export async function withApi (o: ApiOptions, io: CliIo, deps: CliDeps, run: (api: CoordinatorApi) => Promise<number>): Promise<number> {
  let api: CoordinatorApi | undefined
  try {
    const conn = await resolveConnection(o, deps.env ?? process.env, io)
    api = new CoordinatorApi(conn, deps.httpTimeoutMs ?? DEFAULT_TIMEOUT_MS)
    return await run(api)
  } catch (err) {
    return reportError(io, err)
  } finally {
    await api?.close()
  }
}

/**
 * Prints `error: CODE: message` (and each problem of a rejected input) on stderr. Exit 2 for a
 * 4xx (bad input: flags, files, the server refusing the request), 1 for anything else.
 */
export function reportError (io: CliIo, err: unknown): number {
  const e = err as { code?: unknown, statusCode?: unknown, message?: unknown }
  const code = typeof e.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(e.code) ? `${e.code}: ` : ''
  io.stderr.write(maskSecrets(`error: ${code}${String(e.message ?? err)}\n`))
  if (err instanceof ApiError) {
    for (const p of err.problems ?? []) {
      const at = p.line === undefined ? '' : ` (line ${p.line}${p.column === undefined ? '' : `, column ${p.column}`})`
      io.stderr.write(maskSecrets(`  ${p.path === '' ? '(input)' : p.path}${at}: ${p.message}\n`))
    }
  }
  return typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? EXIT.badInput : EXIT.failed
}
