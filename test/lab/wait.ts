// Polling with a deadline: the lab waits on conditions it can observe (a unit state, an HTTP
// answer, a journal line), never on fixed sleeps.
import { setTimeout as sleep } from 'node:timers/promises'

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number
  /** Pause between attempts (default 50 ms). */
  intervalMs?: number
  /** What is awaited, for the timeout message. */
  what?: string
  /** Aborting stops the wait with the signal's reason (e.g. a condition that can no longer hold). */
  signal?: AbortSignal
}

/** The condition did not hold before the deadline; `lastError` is the last attempt's failure, if any. */
export class WaitTimeoutError extends Error {
  readonly code = 'LAB_WAIT_TIMEOUT'
  constructor (what: string, timeoutMs: number, readonly lastError: unknown) {
    const why = lastError instanceof Error ? `: ${lastError.message}` : ''
    super(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, { cause: lastError })
    this.name = 'WaitTimeoutError'
  }
}

/**
 * Calls `fn` until it returns a value other than `undefined`, `null` or `false`, and returns that
 * value. A throwing attempt counts as "not yet"; its error is reported if the deadline passes.
 */
export async function waitFor<T> (fn: () => T | Promise<T>, opts: WaitOptions): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + opts.timeoutMs
  const interval = opts.intervalMs ?? 50
  let lastError: unknown
  for (;;) {
    opts.signal?.throwIfAborted()
    try {
      const v = await fn()
      if (v !== undefined && v !== null && v !== false) return v as Exclude<T, undefined | null | false>
      lastError = undefined
    } catch (err) {
      lastError = err
    }
    const left = deadline - Date.now()
    if (left <= 0) throw new WaitTimeoutError(opts.what ?? 'a condition', opts.timeoutMs, lastError)
    // No signal for the pause: an abort is seen at the next check (≤ interval), with its reason.
    await sleep(Math.min(interval, left))
  }
}
