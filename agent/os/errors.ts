// Error catalogue of the agent's OS ports (STYLE R9: stable AGT_ codes with an HTTP status).
// Every error that comes from a command carries that command's stderr, so an operator reads
// systemd's own words ("Unit minkms.service not found.") instead of a bare exit code.

/** Every code an OsPortError can carry, with what it means. */
export const OS_ERROR_CODES = {
  AGT_UNIT_STATUS_FAILED: 'systemctl show could not report the unit (systemd unreachable, timeout, bad output) (502)',
  AGT_UNIT_RESTART_FAILED: 'systemctl refused or failed to queue the restart job (502)',
  AGT_UNIT_NOT_FOUND: 'the configured unit is not known to systemd (500: agent misconfiguration)',
  AGT_JOURNAL_READ_FAILED: 'journalctl could not read the journal or report its cursor (502)',
  AGT_JOURNAL_FOLLOW_FAILED: 'journalctl --follow could not start or ended by itself (502)',
  AGT_WATCHER_FAILED: 'the file watcher could not watch a managed file (500)'
} as const

/** A stable error code of the OS ports. */
export type OsErrorCode = keyof typeof OS_ERROR_CODES

const STATUS: Record<OsErrorCode, number> = {
  AGT_UNIT_STATUS_FAILED: 502,
  AGT_UNIT_RESTART_FAILED: 502,
  AGT_UNIT_NOT_FOUND: 500,
  AGT_JOURNAL_READ_FAILED: 502,
  AGT_JOURNAL_FOLLOW_FAILED: 502,
  AGT_WATCHER_FAILED: 500
}

/** An OS port failed. `stderr` holds the tail of the command's stderr when there was one. */
export class OsPortError extends Error {
  /** Stable code, see {@link OS_ERROR_CODES}. */
  readonly code: OsErrorCode
  /** HTTP status this error maps to. */
  readonly statusCode: number
  /** The failing command's stderr (trimmed tail), or ''. */
  readonly stderr: string

  constructor (code: OsErrorCode, message: string, opts: { stderr?: string, cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'OsPortError'
    this.code = code
    this.statusCode = STATUS[code]
    this.stderr = opts.stderr ?? ''
  }
}
