// Time behind a port so deadlines and stability windows can be tested without waiting.

/** Wall and monotonic time, and timers. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (for evidence and journal comparisons). */
  now (): number
  /** Monotonic milliseconds (for durations and deadlines; never goes backwards). */
  monotonic (): number
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep (ms: number, signal?: AbortSignal): Promise<void>
}

/**
 * The real clock. `sleep` is a plain timer rather than timers/promises, whose abort rejects with
 * a generic AbortError instead of the signal's reason; the timer and the listener are both gone
 * once the promise settles, so an aborted sleep leaves nothing behind.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: async (ms, signal) => {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(signal?.reason)
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, Math.max(0, ms))
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}
