// minkms health probes over TLS, verified against the lab CA (never with verification off).
import { request } from 'node:https'

/** An HTTP answer. */
export interface HttpAnswer { status: number, body: string }

/** GET `url`, trusting only `ca` (with a client certificate when given). Rejects on network or TLS errors and after `timeoutMs`. */
export async function httpsGet (url: string, opts: { ca: string, timeoutMs?: number, client?: { cert: string, key: string } }): Promise<HttpAnswer> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca: opts.ca, agent: false, timeout: opts.timeoutMs ?? 2000, ...opts.client }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

/** Which probe: liveness, read readiness or write readiness (minkms's /v1/status endpoints). */
export type Probe = 'live' | 'ready' | 'ready-write'

const PROBE_PATH: Record<Probe, string> = {
  live: '/v1/health/live',
  ready: '/v1/health/ready',
  'ready-write': '/v1/health/ready?write'
}

/** The status code of a health probe on `address:port`. */
export async function probe (address: string, port: number, which: Probe, ca: string): Promise<number> {
  return (await httpsGet(`https://${address}:${port}${PROBE_PATH[which]}`, { ca })).status
}
