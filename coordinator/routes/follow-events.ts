// A rollout's events as one stream without gaps or duplicates: stored events from `from`, then
// live ones. It subscribes BEFORE reading the store, so an event appended while the stored ones
// are read is both in the store and in the live buffer; `next` (the index the client needs next)
// drops the second copy. A live event past `next` means stored ones were missed: they are read
// from the store first. The stream ends when the rollout is terminal and the store has nothing
// after `next`; the terminal check runs on each rollout-state event and on a short tick, since
// the engine may store the state and append the event in either order.
// Events go to `write` in batches (a page of stored ones, or the live ones queued meanwhile), in
// index order: `next` moves past a batch before it is written, so an event that arrives during
// the write is judged against it.
import type { RolloutControl } from '../ports/rollout-control.js'
import { TERMINAL_ROLLOUT_STATES, type RolloutEvent } from '../../shared/schemas/rollout.js'

/** Options of {@link followEvents}. */
export interface FollowOptions {
  control: Pick<RolloutControl, 'get' | 'events' | 'subscribe'>
  id: string
  from: number
  /** false: end after the stored events. */
  follow: boolean
  /** Writes events (at least one, ascending indexes); resolves when the client can take more. */
  write: (events: RolloutEvent[]) => Promise<void>
  /** Aborts on client disconnect or server close. */
  signal: AbortSignal
  /** How often an idle stream checks whether the rollout ended (ms). */
  checkEveryMs: number
}

/** Events read from the store per query. */
const PAGE = 500

/** Runs the stream to its end (rollout terminal, `follow` false, or `signal` aborted). */
export async function followEvents (o: FollowOptions): Promise<void> {
  let next = o.from
  const live: RolloutEvent[] = []
  let wake: () => void = () => {}
  const unsubscribe = o.follow ? o.control.subscribe(o.id, e => { live.push(e); wake() }) : () => {}
  const onAbort = (): void => { wake() }
  o.signal.addEventListener('abort', onAbort, { once: true })

  const send = async (batch: RolloutEvent[]): Promise<void> => {
    const last = batch.at(-1)
    if (last === undefined) return
    next = last.index + 1
    await o.write(batch)
  }
  const drainStored = async (): Promise<void> => {
    for (;;) {
      if (o.signal.aborted) return
      const page = await o.control.events(o.id, { from: next, limit: PAGE })
      await send(page.filter(e => e.index >= next))
      if (page.length < PAGE) return
    }
  }
  const ended = async (): Promise<boolean> => {
    const r = await o.control.get(o.id)
    if (r !== undefined && !TERMINAL_ROLLOUT_STATES.includes(r.state)) return false
    await drainStored()
    return true
  }

  try {
    await drainStored()
    if (!o.follow) return
    if (await ended()) return
    for (;;) {
      if (o.signal.aborted) return
      let check = false
      while (live.length > 0 && !o.signal.aborted) {
        let batch: RolloutEvent[] = []
        const expected = (): number => (batch.at(-1)?.index ?? next - 1) + 1
        for (const e of live.splice(0)) {
          if (e.index < expected()) continue
          // Past the expected index: stored ones were missed (a lost notification); they come
          // from the store first, after what is batched so far.
          if (e.index > expected()) {
            await send(batch)
            batch = []
            await drainStored()
          }
          if (e.index >= next) batch.push(e)
          if (e.type === 'rollout') check = true
        }
        await send(batch)
      }
      if (check && await ended()) return
      const ticked = await new Promise<boolean>(resolve => {
        const timer = setTimeout(() => { resolve(true) }, o.checkEveryMs)
        wake = () => { clearTimeout(timer); wake = () => {}; resolve(false) }
        if (live.length > 0 || o.signal.aborted) wake()
      })
      if (ticked && await ended()) return
    }
  } finally {
    unsubscribe()
    o.signal.removeEventListener('abort', onAbort)
  }
}
