// Refused TLS handshakes, logged so an operator can see who was turned away and why: a client
// certificate from another CA, expired, not yet valid, without clientAuth usage, self-signed, or
// none at all. Logged at warn with the peer address and OpenSSL's reason (its code and text, which
// name the defect, never certificate or key bytes), rate-limited (rate-limited-warn.ts).
import type { Logger } from './logger.js'
import { RateLimitedWarn, type RateLimitedWarnOptions } from './rate-limited-warn.js'

/** Options of {@link TlsRefusalLog}. */
export type TlsRefusalLogOptions = RateLimitedWarnOptions

export class TlsRefusalLog {
  readonly #warn: RateLimitedWarn

  constructor (log: Logger, opts: TlsRefusalLogOptions = {}) {
    this.#warn = new RateLimitedWarn(log, 'more TLS handshakes were refused and not logged one by one', opts)
  }

  /** Records one refused handshake (the server's `tlsClientError`). */
  record (err: Error & { code?: string, reason?: string }, socket: { remoteAddress?: string | undefined, remotePort?: number | undefined }): void {
    this.#warn.warn({ peer: socket.remoteAddress ?? 'unknown', peerPort: socket.remotePort, code: err.code, reason: reasonOf(err) }, 'TLS handshake refused')
  }
}

// OpenSSL's reason text ("certificate has expired", "peer did not return a certificate"); only
// the first line, bounded, and never the error's stack or attached buffers.
function reasonOf (err: Error & { reason?: string }): string {
  const text = typeof err.reason === 'string' && err.reason !== '' ? err.reason : err.message
  return (text.split('\n')[0] ?? '').slice(0, 200)
}
