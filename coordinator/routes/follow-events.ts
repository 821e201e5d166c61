// The events of a rollout (or of an HSM migration) as one stream without gaps or duplicates:
// stored events from `from`, then
// live ones. It subscribes BEFORE reading the store, so an event appended while the stored ones
// are read is both in the store and in the live buffer; `next` (the index the client needs next)
// drops the second copy. A live event past `next` means stored ones were missed: they are read
// from the store first. The stream ends when the followed thing is terminal and the store has
// nothing after `next`; the terminal check runs on each state event and on a short tick, since
// the producer may store the state and append the event in either order.

/** What a stream needs of an event: its index (from 0, no gaps) and its type. */
export interface StreamEvent { index: number, type: string }

/** Where the events of one thing (a rollout, a migration) come from. */
export interface EventSource<E extends StreamEvent> {
  get: (id: string) => Promise<{ state: string } | undefined>
  /** Stored events from `from`, oldest first. */
  events: (id: string, opts: { from?: number, limit?: number }) => Promise<E[]>
  /** Every event appended from now on, until the returned function is called. */
  subscribe: (id: string, onEvent: (e: E) => void) => () => void
}

/** Options of {@link followEvents}. */
export interface FollowOptions<E extends StreamEvent> {
  control: EventSource<E>
  /** States after which nothing more is appended (the stream may end). */
  terminal: readonly string[]
  /** Event types that may announce a state change: the terminal check runs at once after them. */
  stateEvents: readonly string[]
  id: string
  from: number
  /** false: end after the stored events. */
  follow: boolean
  /** Writes one event; resolves when the client can take more. */
  write: (e: E) => Promise<void>
  /** Aborts on client disconnect or server close. */
  signal: AbortSignal
  /** How often an idle stream checks whether the rollout ended (ms). */
  checkEveryMs: number
}

/** Events read from the store per query. */
const PAGE = 500

/** Runs the stream to its end (terminal, `follow` false, or `signal` aborted). */
export async function followEvents<E extends StreamEvent> (o: FollowOptions<E>): Promise<void> {
  let next = o.from
  const live: E[] = []
  let wake: () => void = () => {}
  const unsubscribe = o.follow ? o.control.subscribe(o.id, e => { live.push(e); wake() }) : () => {}
  const onAbort = (): void => { wake() }
  o.signal.addEventListener('abort', onAbort, { once: true })

  const send = async (e: E): Promise<void> => {
    next = e.index + 1
    await o.write(e)
  }
  const drainStored = async (): Promise<void> => {
    for (;;) {
      if (o.signal.aborted) return
      const page = await o.control.events(o.id, { from: next, limit: PAGE })
      for (const e of page) if (e.index >= next) await send(e)
      if (page.length < PAGE) return
    }
  }
  const ended = async (): Promise<boolean> => {
    const r = await o.control.get(o.id)
    if (r !== undefined && !o.terminal.includes(r.state)) return false
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
        const e = live.shift() as E
        if (e.index < next) continue
        if (e.index > next) await drainStored()
        if (e.index >= next) await send(e)
        if (o.stateEvents.includes(e.type)) check = true
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
