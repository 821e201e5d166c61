// A client load on a Key Manager cluster, as an application would put on it while keyroll rolls
// a change over the nodes: encrypt→decrypt round trips at a steady rate through keyroll's minkms
// client, which holds every node's endpoint and fails over between them on a network error, as
// minkms clients do. A round trip that fails after the client's own failover counts as a failed
// operation: the number a rollout must keep at zero.
import { randomBytes } from 'node:crypto'
import { createMinkmsClient, type MinkmsClient } from '../../shared/minkms/client.js'

/** Options of {@link startClientLoad}. */
export interface ClientLoadOptions {
  /** Every node's `host:port`. */
  endpoints: string[]
  /** An API key allowed to encrypt and decrypt with `key` in `enclave`. */
  apiKey: string
  /** PEM CA of the nodes' server certificates. */
  ca: string
  enclave: string
  key: string
  /** Round trips started per second (default 25). */
  perSecond?: number
  /** Per-attempt timeout of the client (default 2 000 ms). */
  timeoutMs?: number
}

/** What a load saw. */
export interface ClientLoadReport {
  ok: number
  failed: number
  /** The first few failures, with when they happened (wall-clock ms). */
  failures: Array<{ at: number, message: string }>
  /** Round-trip latencies in ms, in the order they finished. */
  latencies: number[]
  startedAt: number
  stoppedAt: number
}

/** A running load. */
export interface ClientLoad {
  /** Round trips so far (ok + failed). */
  count (): number
  /** Stops starting new round trips, waits for those in flight, and reports. */
  stop (): Promise<ClientLoadReport>
}

/** Starts a load; `perSecond` round trips start each second, each independent of the others. */
export function startClientLoad (opts: ClientLoadOptions): ClientLoad {
  const client: MinkmsClient = createMinkmsClient({ endpoints: opts.endpoints, apiKey: opts.apiKey, ca: opts.ca, timeoutMs: opts.timeoutMs ?? 2000 })
  const report: ClientLoadReport = { ok: 0, failed: 0, failures: [], latencies: [], startedAt: Date.now(), stoppedAt: 0 }
  const inFlight = new Set<Promise<void>>()
  const roundTrip = async (): Promise<void> => {
    const t0 = performance.now()
    try {
      const plaintext = randomBytes(32)
      const sealed = await client.encrypt(opts.enclave, opts.key, plaintext)
      const opened = await client.decrypt(opts.enclave, opts.key, sealed.ciphertext, { version: sealed.version })
      if (!Buffer.from(opened).equals(plaintext)) throw new Error('decrypt returned other bytes than were encrypted')
      report.ok++
      report.latencies.push(performance.now() - t0)
    } catch (err) {
      report.failed++
      if (report.failures.length < 20) report.failures.push({ at: Date.now(), message: (err as Error).message })
    }
  }
  // The rate is kept against the clock, not per timer tick: on a busy test machine timers fire
  // late, and a plain interval would quietly run a lighter load than asked. Each tick starts every
  // round trip that is due by now (at most one second's worth at once, as a client pool would).
  const perSecond = opts.perSecond ?? 25
  let started = 0
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - report.startedAt) * perSecond) / 1000)
    for (let burst = 0; started < due && burst < perSecond; burst++) {
      started++
      const p = roundTrip().finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
    started = Math.max(started, due - perSecond)
  }, Math.max(5, Math.floor(500 / perSecond)))
  return {
    count: () => report.ok + report.failed,
    stop: async () => {
      clearInterval(timer)
      await Promise.all([...inFlight])
      report.stoppedAt = Date.now()
      await client.close()
      return report
    }
  }
}

/** The p-th percentile (0-100) of `values`, or NaN when empty. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN
}
