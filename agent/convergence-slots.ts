// Boot convergence asks the coordinator for a go-ahead before it restarts minkms, so that nodes
// rebooting together do not all restart at once (minkms writes need every node up). The
// contract (docs/agent-coordinator.md):
//   POST {url}/v1/convergence/slots          { node, unit, revision }
//     201 { slotId, ttlMs }                   granted: converge now, release when done
//     409 { retryAfterMs, message }           not now (another node converging, a rollout running)
//   POST {url}/v1/convergence/slots/{slotId}/release   { revision, result, message }  → 204
// The agent retries 409s and network errors with capped backoff until granted or closed.
import { readFile } from 'node:fs/promises'
import type { Clock } from '../shared/clock.js'
import { HttpsClient, discard, readBody } from '../shared/https-client.js'
import type { ApplyResult } from './core.js'
import type { Log } from './apply/transaction.js'

export interface SlotClientOptions {
  url: string
  ca?: string
  cert: string
  key: string
  node: string
  unit: string
  clock: Clock
  log: Log
  /** Ends the waiting (agent shutdown). */
  signal: AbortSignal
  /** Per-request connect, headers and body timeout (default 10 s). */
  timeoutMs?: number
}

/** A go-ahead function for ChangeApplier.converge(). */
export type GoAhead = (revision: number) => Promise<(r: ApplyResult) => Promise<void>>

// The coordinator's answers are small JSON documents; anything bigger is not one of them.
const MAX_ANSWER = 64 * 1024
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' }

export async function coordinatorGoAhead (o: SlotClientOptions): Promise<GoAhead> {
  const http = new HttpsClient({
    cert: await readFile(o.cert),
    key: await readFile(o.key),
    ...(o.ca === undefined ? {} : { ca: await readFile(o.ca) }),
    timeoutMs: o.timeoutMs ?? 10_000
  })
  const url = new URL(o.url.replace(/\/+$/, ''))
  const post = async (path: string, body: unknown, signal?: AbortSignal): ReturnType<HttpsClient['request']> =>
    await http.request({ origin: url.origin, path: `${url.pathname.replace(/\/+$/, '')}${path}`, method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body), ...(signal === undefined ? {} : { signal }) })
  o.signal.addEventListener('abort', () => { http.close().catch(() => {}) }, { once: true })
  return async (revision) => {
    let delay = 500
    for (;;) {
      o.signal.throwIfAborted()
      let retryAfter = delay
      try {
        const res = await post('/v1/convergence/slots', { node: o.node, unit: o.unit, revision }, o.signal)
        const text = await readBody(res.body, MAX_ANSWER, true, () => new Error('answer too large'))
        const body = parseObject(text.toString('utf8')) as { slotId?: unknown, retryAfterMs?: unknown, message?: unknown }
        if (res.statusCode === 201 && typeof body.slotId === 'string') {
          const slotId = body.slotId
          o.log.info({ revision, slotId }, 'coordinator granted a convergence slot')
          return async (r) => {
            await post(`/v1/convergence/slots/${encodeURIComponent(slotId)}/release`, { revision: r.revision, result: r.result, message: r.message })
              .then(async (x) => { await discard(x.body) }, (err: unknown) => { o.log.warn({ err }, 'could not release the convergence slot') })
          }
        }
        if (typeof body.retryAfterMs === 'number' && Number.isFinite(body.retryAfterMs)) retryAfter = Math.max(100, body.retryAfterMs)
        o.log.info({ revision, status: res.statusCode, why: typeof body.message === 'string' ? body.message : undefined }, 'coordinator: no convergence slot yet')
      } catch (err) {
        if (o.signal.aborted) throw err
        o.log.warn({ err }, 'coordinator unreachable; will ask again')
      }
      await o.clock.sleep(retryAfter, o.signal)
      delay = Math.min(delay * 2, 30_000)
    }
  }
}

// A body that is not a JSON object counts as an empty answer (a proxy's HTML error page, say).
function parseObject (text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {}
  } catch {
    return {}
  }
}
