// Warn lines about refused callers, bounded: a scanner or a misconfigured client retrying in a
// loop must not flood the journal, so after `perWindow` lines in a window the rest are counted
// and reported in one line when the next window starts.
import type { Logger } from './logger.js'

/** Options of {@link RateLimitedWarn}. */
export interface RateLimitedWarnOptions {
  /** Lines logged per window (default 20). */
  perWindow?: number
  /** Window length in ms (default 60 000). */
  windowMs?: number
  /** Clock (tests). */
  now?: () => number
}

export class RateLimitedWarn {
  readonly #log: Logger
  readonly #summary: string
  readonly #perWindow: number
  readonly #windowMs: number
  readonly #now: () => number
  #windowStart = -Infinity
  #inWindow = 0
  #suppressed = 0

  /** `summary`: the message of the line that counts what a window did not log one by one. */
  constructor (log: Logger, summary: string, opts: RateLimitedWarnOptions = {}) {
    this.#log = log
    this.#summary = summary
    this.#perWindow = opts.perWindow ?? 20
    this.#windowMs = opts.windowMs ?? 60_000
    this.#now = opts.now ?? Date.now
  }

  /** Logs one line at warn, unless this window's lines are spent (then it is counted). */
  warn (fields: Record<string, unknown>, message: string): void {
    const now = this.#now()
    if (now - this.#windowStart >= this.#windowMs) {
      if (this.#suppressed > 0) this.#log.warn({ suppressed: this.#suppressed, windowMs: this.#windowMs }, this.#summary)
      this.#windowStart = now
      this.#inWindow = 0
      this.#suppressed = 0
    }
    if (this.#inWindow >= this.#perWindow) { this.#suppressed++; return }
    this.#inWindow++
    this.#log.warn(fields, message)
  }
}
