// The coordinator's root logger: shared/logger.ts (fixed redact paths, key-pattern mask on every
// line) plus what only the coordinator holds: API tokens. The Authorization header is redacted
// wherever a headers object is logged, and a last-resort mask replaces anything shaped like a
// token (`krt_<name>_<64 hex>`) in every finished line, wherever it hides.
import { pino } from 'pino'
import { createLogger, type Logger, type LoggerOptions } from '../shared/logger.js'

/** Paths masked in the coordinator's lines on top of the shared ones. */
export const COORDINATOR_REDACT_PATHS: readonly string[] = Object.freeze([
  'headers.authorization',
  '*.headers.authorization',
  'authorization',
  '*.authorization',
  'token',
  '*.token'
])

const TOKEN_SHAPE = /krt_[a-z0-9][a-z0-9.-]{0,62}_[0-9a-fA-F]{64}/g

/** `text` with every token-shaped substring replaced by `krt_***`. */
export function maskTokens (text: string): string {
  return text.replace(TOKEN_SHAPE, 'krt_***')
}

/** The coordinator's root logger. */
export function createCoordinatorLogger (opts: LoggerOptions = {}): Logger {
  const target = opts.destination ?? pino.destination({ dest: 1, sync: true })
  return createLogger({
    ...opts,
    redact: [...COORDINATOR_REDACT_PATHS, ...(opts.redact ?? [])],
    destination: { write: (line: string) => target.write(maskTokens(line)) }
  })
}
