// The events of one rollout or migration as one stream without gaps or duplicates: stored events
// from `from`, then live ones. It subscribes BEFORE reading the store, so an event appended while
// the stored ones are read is both in the store and in the live buffer; `next` (the index the
// client needs next) drops the second copy. A live event past `next` means stored ones were
// missed: they are read from the store first.
// The stream ends when the followed thing is terminal, the store has nothing after `next`, and the
// state event that announced the terminal state was sent. The terminal check runs on each state
// event and on a short tick, since the producer may store the state and append the event in either
// order; a terminal state whose event never comes (a producer that writes none) ends the stream
// after END_GRACE_MS, so a stream never hangs on it, but never drops the last event either.
// Events go to `write` in batches (a page of stored ones, or the live ones queued meanwhile), in
// index order: `next` moves past a batch before it is written, so an event that arrives during
// the write is judged against it.

/** What a stream needs of an event: its index (from 0, no gaps), its type and, for state events, data.state. */
export interface StreamEvent { index: number, type: string, data?: unknown }

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
  /** Writes events (at least one, ascending indexes); resolves when the client can take more. */
  write: (events: E[]) => Promise<void>
  /** Aborts on client disconnect or server close. */
  signal: AbortSignal
  /** How often an idle stream checks whether the followed thing ended (ms). */
  checkEveryMs: number
}

/** Events read from the store per query. */
const PAGE = 500

/** How long a terminal state may go without its state event before the stream ends anyway. */
export const END_GRACE_MS = 2000

const stateOf = (e: StreamEvent): unknown => (typeof e.data === 'object' && e.data !== null ? (e.data as { state?: unknown }).state : undefined)

/** Runs the stream to its end (terminal, `follow` false, or `signal` aborted). */
export async function followEvents<E extends StreamEvent> (o: FollowOptions<E>): Promise<void> {
  let next = o.from
  const live: E[] = []
  let wake: () => void = () => {}
  const unsubscribe = o.follow ? o.control.subscribe(o.id, e => { live.push(e); wake() }) : () => {}
  const onAbort = (): void => { wake() }
  o.signal.addEventListener('abort', onAbort, { once: true })
  let terminalEventSent = false
  let terminalSeenAt: number | undefined

  const send = async (batch: E[]): Promise<void> => {
    const last = batch.at(-1)
    if (last === undefined) return
    next = last.index + 1
    if (batch.some((e) => o.stateEvents.includes(e.type) && o.terminal.includes(String(stateOf(e))))) terminalEventSent = true
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
    if (r !== undefined && !o.terminal.includes(r.state)) return false
    await drainStored()
    // Gone (r undefined), or its terminal state event is out: nothing more will come.
    if (r === undefined || terminalEventSent) return true
    terminalSeenAt ??= Date.now()
    return Date.now() - terminalSeenAt >= END_GRACE_MS
  }

  try {
    await drainStored()
    if (!o.follow) return
    if (await ended()) return
    for (;;) {
      if (o.signal.aborted) return
      let check = false
      while (live.length > 0 && !o.signal.aborted) {
        let batch: E[] = []
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
          if (o.stateEvents.includes(e.type)) check = true
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
