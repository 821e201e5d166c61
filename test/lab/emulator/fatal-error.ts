// An error that stops the server: main.ts prints it as ONE `FATAL <message>` line and exits 1.
// The message is what an operator reads in `journalctl -u minkms`, so it must be complete, on one
// line, and free of secrets.

/** Start-up failure (bad config, no usable HSM, sealing failed, data dir unusable). */
export class FatalError extends Error {
  readonly code = 'EMU_FATAL'
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'FatalError'
  }
}

/** Short text of any thrown value, for log lines. */
export function describeError (err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message
  }
  return String(err)
}
