// A Clock whose time moves only when the test says so (@tapjs/clock is not installed). Timers
// fire in due order; after each one the test yields to the event loop a few times so the code
// woken by it (and the promise chains it starts) runs before the next timer fires.
import type { Clock } from '../../shared/clock.js'

interface Timer {
  at: number
  seq: number
  resolve: () => void
  cancel: () => void
}

/** Lets pending promise chains and I/O callbacks run (real event-loop turns, no real waiting). */
export async function settle (turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => { setImmediate(resolve) })
}

/** A manual clock. `now()` = `epochMs` + `monotonic()`. */
export class FakeClock implements Clock {
  #mono = 0
  #seq = 0
  readonly #epochMs: number
  readonly #timers = new Set<Timer>()

  constructor (epochMs = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    this.#epochMs = epochMs
  }

  now (): number { return this.#epochMs + this.#mono }
  monotonic (): number { return this.#mono }

  /** Timers not yet fired or cancelled: 0 after the code under test finished cleanly. */
  get pending (): number { return this.#timers.size }

  async sleep (ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { timer.cancel(); reject(signal?.reason) }
      const timer: Timer = {
        at: this.#mono + Math.max(0, ms),
        seq: this.#seq++,
        resolve: () => { signal?.removeEventListener('abort', onAbort); resolve() },
        cancel: () => { this.#timers.delete(timer) }
      }
      this.#timers.add(timer)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance (ms: number): Promise<void> {
    const end = this.#mono + ms
    await settle()
    for (;;) {
      const next = [...this.#timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (next === undefined) break
      this.#mono = Math.max(this.#mono, next.at)
      this.#timers.delete(next)
      next.resolve()
      await settle()
    }
    this.#mono = end
    await settle()
  }

  /**
   * Advances in `stepMs` steps until `done()` is true; rejects after `maxMs` of fake time, so a
   * test that would hang fails with a message instead.
   */
  async advanceUntil (done: () => boolean, opts: { stepMs?: number, maxMs?: number } = {}): Promise<void> {
    const step = opts.stepMs ?? 10
    const max = opts.maxMs ?? 120_000
    const start = this.#mono
    await settle()
    while (!done()) {
      if (this.#mono - start >= max) throw new Error(`FakeClock.advanceUntil: not done after ${max} ms of fake time`)
      await this.advance(step)
    }
  }
}
