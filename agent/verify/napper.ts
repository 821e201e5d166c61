// A poll loop's sleep that can be cut short: the health loop naps 200 ms between probes, but
// when the ready line arrives it should probe now, not up to 200 ms later.
import type { Clock } from '../../shared/clock.js'

/** Sleeps on a Clock; `wake()` ends the current nap early, `signal` ends it for good. */
export class Napper {
  readonly #clock: Clock
  readonly #signal: AbortSignal
  #wake: (() => void) | undefined

  constructor (clock: Clock, signal: AbortSignal) {
    this.#clock = clock
    this.#signal = signal
  }

  /** Resolves after `ms`, on `wake()`, or when the signal aborts; never rejects. */
  async nap (ms: number): Promise<void> {
    if (this.#signal.aborted) return
    const ac = new AbortController()
    const stop = (): void => { ac.abort() }
    this.#signal.addEventListener('abort', stop, { once: true })
    this.#wake = stop
    try {
      await this.#clock.sleep(ms, ac.signal)
    } catch {
      // woken or aborted: both just end the nap
    } finally {
      this.#wake = undefined
      this.#signal.removeEventListener('abort', stop)
    }
  }

  /** Ends the current nap, if any. */
  wake (): void {
    this.#wake?.()
  }
}
