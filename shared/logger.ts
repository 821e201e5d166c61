// The one root logger, so every line passes the same secret masking: pino JSON lines to stdout, which journald stores. Two
// layers keep secrets out of the journal:
//  1. a fixed `redact` list (paths fixed here in code, never built from input) for the fields
//     that hold secrets by name: API keys, HSM keys, env values, env edits of a change;
//  2. a last-resort mask on the destination: every finished line is scanned for anything that
//     looks like a minkms API key (`k1:`/`k2:`) or an HSM key (`hsm:aes256:`) and masked, wherever
//     it hides (a message, an error stack, a nested config value no path names).
// Secret objects (shared/secrets/secret.ts) already serialise as `***`.
import { pino, type DestinationStream, type Level, type Logger } from 'pino'
import { redactText } from './secrets/redact-text.js'

export type { Logger } from 'pino'

/** What every redacted field shows. */
export const REDACTED = '***'

/**
 * Fields masked in every log line. pino wildcards match one level, so nested forms are listed;
 * anything deeper that looks like a key is still caught by the line mask.
 */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'req.headers.cookie',
  '*.token',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.api_key',
  '*.hsmKey',
  '*.privateKey',
  'auth.key',
  '*.auth.key',
  '*.*.auth.key',
  'env.*',
  '*.env.*',
  'change.env.*',
  'change.files.env.set.*',
  '*.change.files.env.set.*',
  'change.files.config.set.*.auth.key',
  'MINIO_KMS_HSM_KEY',
  '*.MINIO_KMS_HSM_KEY',
  '*.*.MINIO_KMS_HSM_KEY'
])

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level; default `info`. */
  level?: Level | 'silent'
  /** Where JSON lines go; default stdout (fd 1). Tests pass a collector. */
  destination?: { write: (line: string) => unknown }
  /** Extra redact paths, fixed in code by the caller (e.g. `config.<SECRET_PATHS>`). */
  redact?: readonly string[]
  /** Bindings on every line, e.g. `{ name: 'keyroll-agent' }`. */
  base?: Record<string, string | number>
}

/** The root logger. Components take `log.child({ component: '…' })`. */
export function createLogger (opts: LoggerOptions = {}): Logger {
  const target = opts.destination ?? pino.destination({ dest: 1, sync: true })
  return pino({
    level: opts.level ?? 'info',
    base: { pid: process.pid, ...opts.base },
    redact: { paths: [...REDACT_PATHS, ...(opts.redact ?? [])], censor: REDACTED },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err }
  }, maskingDestination(target))
}

/** Wraps a destination so that every line is masked before it is written (layer 2 above). */
export function maskingDestination (target: { write: (line: string) => unknown }): DestinationStream {
  return { write: (line: string) => { target.write(maskSecrets(line)) } }
}

/** Replaces API-key and HSM-key lookalikes in `text` with `***`. */
export function maskSecrets (text: string): string {
  return redactText(text, [])
}
