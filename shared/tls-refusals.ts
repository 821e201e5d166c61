// Refused TLS handshakes, logged so an operator can see who was turned away and why: a client
// certificate from another CA, expired, not yet valid, without clientAuth usage, self-signed, or
// none at all. Logged at warn with the peer address and OpenSSL's reason (its code and text, which
// name the defect, never certificate or key bytes). Rate-limited: a scanner or a misconfigured
// client retrying in a loop must not flood the journal, so after `perWindow` entries in a window
// the rest are counted and reported once when the next window starts.
import type { Logger } from './logger.js'

/** Options of {@link TlsRefusalLog}. */
export interface TlsRefusalLogOptions {
  /** Entries logged per window (default 20). */
  perWindow?: number
  /** Window length in ms (default 60 000). */
  windowMs?: number
  /** Clock (tests). */
  now?: () => number
}

export class TlsRefusalLog {
  readonly #log: Logger
  readonly #perWindow: number
  readonly #windowMs: number
  readonly #now: () => number
  #windowStart = -Infinity
  #inWindow = 0
  #suppressed = 0

  constructor (log: Logger, opts: TlsRefusalLogOptions = {}) {
    this.#log = log
    this.#perWindow = opts.perWindow ?? 20
    this.#windowMs = opts.windowMs ?? 60_000
    this.#now = opts.now ?? Date.now
  }

  /** Records one refused handshake (the server's `tlsClientError`). */
  record (err: Error & { code?: string, reason?: string }, socket: { remoteAddress?: string | undefined, remotePort?: number | undefined }): void {
    const now = this.#now()
    if (now - this.#windowStart >= this.#windowMs) {
      if (this.#suppressed > 0) this.#log.warn({ suppressed: this.#suppressed, windowMs: this.#windowMs }, 'more TLS handshakes were refused and not logged one by one')
      this.#windowStart = now
      this.#inWindow = 0
      this.#suppressed = 0
    }
    if (this.#inWindow >= this.#perWindow) { this.#suppressed++; return }
    this.#inWindow++
    this.#log.warn({ peer: socket.remoteAddress ?? 'unknown', peerPort: socket.remotePort, code: err.code, reason: reasonOf(err) }, 'TLS handshake refused')
  }
}

// OpenSSL's reason text ("certificate has expired", "peer did not return a certificate"); only
// the first line, bounded, and never the error's stack or attached buffers.
function reasonOf (err: Error & { reason?: string }): string {
  const text = typeof err.reason === 'string' && err.reason !== '' ? err.reason : err.message
  return (text.split('\n')[0] ?? '').slice(0, 200)
}
