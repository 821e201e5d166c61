// The API load of the coordinator's scale benchmark: an open-loop mix of the routes an operator's
// dashboard and CLI call (each route at its own steady rate, every request timed from when it was
// due, so a slow coordinator shows as latency, not as fewer requests), and the event streams
// (NDJSON and SSE) held open on a rollout, counting events and how late each arrived.
import { setMaxListeners } from 'node:events'
import { Agent, request } from 'undici'
import { lines } from '../../shared/ndjson-lines.js'
import { summarize, type Summary } from './stats.js'

/** One route of the mix and its rate. */
export interface MixRoute { name: string, perSecond: number, method: 'GET' | 'POST', path: string, body?: unknown }

/** Latencies (ms) by route, and the answers that were not 2xx. */
export interface MixResult { byRoute: Map<string, number[]>, errors: string[] }

/** The coordinator as a client reaches it. */
export interface Target { url: string, token: string, ca: string | Buffer }

export function dispatcherFor (target: Target): Agent {
  return new Agent({ connect: { ca: target.ca, timeout: 30_000 }, bodyTimeout: 0, headersTimeout: 60_000 })
}

async function call (d: Agent, target: Target, r: MixRoute): Promise<number> {
  const res = await request(`${target.url}${r.path}`, {
    method: r.method,
    dispatcher: d,
    headers: { authorization: `Bearer ${target.token}`, ...(r.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) })
  })
  await res.body.text()
  return res.statusCode
}

/** Runs `routes` for `seconds`; resolves once every request finished. */
export async function runMix (d: Agent, target: Target, routes: readonly MixRoute[], seconds: number): Promise<MixResult> {
  const byRoute = new Map<string, number[]>(routes.map((r) => [r.name, []]))
  const errors: string[] = []
  const inFlight: Array<Promise<void>> = []
  const start = performance.now()
  const end = start + seconds * 1000
  const next = routes.map(() => start)
  for (;;) {
    const i = next.indexOf(Math.min(...next))
    const due = next[i] ?? end
    if (due >= end) break
    const r = routes[i] as MixRoute
    next[i] = due + 1000 / r.perSecond
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    inFlight.push(call(d, target, r).then((status) => {
      byRoute.get(r.name)?.push(performance.now() - due)
      if (status >= 300) errors.push(`${r.name}: HTTP ${status}`)
    }, (err: Error) => { errors.push(`${r.name}: ${err.message}`) }))
  }
  await Promise.all(inFlight)
  return { byRoute, errors }
}

/** Summaries by route, plus `all` over every route and `without` over the routes not in `exclude`. */
export function mixSummary (m: MixResult, exclude: readonly string[]): Map<string, Summary | undefined> {
  const out = new Map<string, Summary | undefined>()
  for (const [k, v] of m.byRoute) out.set(k, summarize(v))
  out.set('all routes', summarize([...m.byRoute.values()].flat()))
  out.set(`all but ${exclude.join(', ')}`, summarize([...m.byRoute].filter(([k]) => !exclude.includes(k)).flatMap(([, v]) => v)))
  return out
}

/** Open event streams of one rollout: how many events arrived, and how late the live ones (receive − event.at, ms). */
export interface Streams {
  events (): number
  lags: number[]
  errors: string[]
  /** Resolves with the ms it took until every stream had sent an event that happened after it was opened (it replayed the stored ones first). */
  caughtUp (timeoutMs: number): Promise<number>
  close (): void
}

/** Opens `n` streams on rollout `id`, every other one SSE, the rest NDJSON; resolves once all answered 200. */
export async function openStreams (d: Agent, target: Target, id: string, n: number): Promise<Streams> {
  const ac = new AbortController()
  setMaxListeners(0, ac.signal)
  let events = 0
  const lags: number[] = []
  const errors: string[] = []
  const openedAt = Date.now()
  // Lag only of events that happened after the streams were opened: the stored ones come first.
  const seen = (json: string): void => {
    if (json === '{}' || json === '') return
    const at = (JSON.parse(json) as { at?: unknown }).at
    events++
    if (typeof at === 'number' && at >= openedAt) lags.push(Date.now() - at)
  }
  const latest: number[] = []
  const one = async (sse: boolean): Promise<void> => {
    const slot = latest.push(0) - 1
    const seenHere = (json: string): void => {
      seen(json)
      if (json === '{}' || json === '') return
      const at = (JSON.parse(json) as { at?: unknown }).at
      if (typeof at === 'number') latest[slot] = Math.max(latest[slot] ?? 0, at)
    }
    const res = await request(`${target.url}/v1/rollouts/${id}/events?from=0`, {
      dispatcher: d,
      signal: ac.signal,
      headers: { authorization: `Bearer ${target.token}`, accept: sse ? 'text/event-stream' : 'application/x-ndjson' }
    })
    if (res.statusCode !== 200) throw new Error(`events: HTTP ${res.statusCode}`)
    ;(async () => {
      for await (const raw of lines(res.body)) {
        const line = raw.trim()
        if (!sse) seenHere(line)
        else if (line.startsWith('data:')) seenHere(line.slice(5).trim())
      }
    })().catch((err: Error) => { if (!ac.signal.aborted) errors.push(err.message) })
  }
  // A few at a time: 200 TLS handshakes at once would measure the handshakes, not the streams.
  for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, async (_, j) => { await one((i + j) % 2 === 1) }))
  const caughtUp = async (timeoutMs: number): Promise<number> => {
    const deadline = Date.now() + timeoutMs
    while (!latest.every((at) => at >= openedAt)) {
      if (Date.now() > deadline) throw new Error(`${latest.filter((at) => at < openedAt).length} of ${n} streams had not caught up after ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return Date.now() - openedAt
  }
  return { events: () => events, lags, errors, caughtUp, close: () => { ac.abort() } }
}
