// Retries a check until it passes, says it never will, or the deadline passes. The deadline is
// wall-clock (a step's deadlines are stored as wall-clock times, so a resumed coordinator keeps
// them); the pauses between attempts go through the Clock, so tests drive them with a fake one.
import type { Clock } from '../../shared/clock.js'
import { errorText } from './error-text.js'

/** One attempt's answer. `final` stops the retries (a definite no). */
export interface Attempt { ok: boolean, message: string, final?: boolean }

/** The last attempt's answer, and how long the retries took (monotonic ms). */
export interface Retried extends Attempt { ms: number, attempts: number }

/** Calls `attempt` every `pollMs` until ok, final, or `deadline` (wall ms) passes. A throw counts as not ok. */
export async function retryUntil (clock: Clock, deadline: number, pollMs: number, attempt: () => Promise<Attempt>, signal?: AbortSignal): Promise<Retried> {
  const t0 = clock.monotonic()
  let attempts = 0
  for (;;) {
    signal?.throwIfAborted()
    attempts++
    let a: Attempt
    try {
      a = await attempt()
    } catch (err) {
      signal?.throwIfAborted()
      a = { ok: false, message: errorText(err) }
    }
    const ms = Math.round(clock.monotonic() - t0)
    if (a.ok || a.final === true) return { ...a, ms, attempts }
    if (clock.now() + pollMs > deadline) return { ok: false, message: `${a.message} (deadline passed after ${attempts} attempt${attempts === 1 ? '' : 's'})`, ms, attempts }
    await clock.sleep(pollMs, signal)
  }
}
