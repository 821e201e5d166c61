// Boot convergence asks the coordinator for a go-ahead before it restarts minkms, so that nodes
// rebooting together do not all restart at once (minkms writes need every node up). The
// contract (docs/agent-coordinator.md):
//   POST {url}/v1/convergence/slots          { node, unit, revision }
//     201 { slotId, ttlMs }                   granted: converge now, release when done
//     409 { retryAfterMs, message }           not now (another node converging, a rollout running)
//   POST {url}/v1/convergence/slots/{slotId}/release   { revision, result, message }  → 204
// The agent retries 409s and network errors with capped backoff until granted or closed.
import { readFile } from 'node:fs/promises'
import { Agent, request } from 'undici'
import type { Clock } from '../shared/clock.js'
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
}

/** A go-ahead function for ChangeApplier.converge(). */
export type GoAhead = (revision: number) => Promise<(r: ApplyResult) => Promise<void>>

export async function coordinatorGoAhead (o: SlotClientOptions): Promise<GoAhead> {
  const dispatcher = new Agent({
    connect: {
      cert: await readFile(o.cert),
      key: await readFile(o.key),
      ...(o.ca === undefined ? {} : { ca: await readFile(o.ca) })
    },
    headersTimeout: 10_000,
    bodyTimeout: 10_000
  })
  const base = o.url.replace(/\/+$/, '')
  return async (revision) => {
    let delay = 500
    for (;;) {
      o.signal.throwIfAborted()
      let retryAfter = delay
      try {
        const res = await request(`${base}/v1/convergence/slots`, {
          method: 'POST',
          dispatcher,
          signal: o.signal,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ node: o.node, unit: o.unit, revision })
        })
        const body = await res.body.json().catch(() => ({})) as { slotId?: string, retryAfterMs?: number, message?: string }
        if (res.statusCode === 201 && typeof body.slotId === 'string') {
          const slotId = body.slotId
          o.log.info({ revision, slotId }, 'coordinator granted a convergence slot')
          return async (r) => {
            await request(`${base}/v1/convergence/slots/${encodeURIComponent(slotId)}/release`, {
              method: 'POST',
              dispatcher,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ revision: r.revision, result: r.result, message: r.message })
            }).then(async (x) => { await x.body.dump() }, (err: unknown) => { o.log.warn({ err }, 'could not release the convergence slot') })
          }
        }
        if (typeof body.retryAfterMs === 'number') retryAfter = Math.max(100, body.retryAfterMs)
        o.log.info({ revision, status: res.statusCode, why: body.message }, 'coordinator: no convergence slot yet')
      } catch (err) {
        if (o.signal.aborted) throw err
        o.log.warn({ err }, 'coordinator unreachable; will ask again')
      }
      await o.clock.sleep(retryAfter, o.signal)
      delay = Math.min(delay * 2, 30_000)
    }
  }
}
