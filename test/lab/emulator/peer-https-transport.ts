// Node-to-node calls over mutual TLS: the client certificate is made from the root API key (which
// every node sharing the HSM key derives alike), server certificates are verified against the
// configured CA (`tls.ca`, else the system trust store). One connection per call, no keep-alive,
// so a stopped emulator leaves no sockets behind.
import { request } from 'node:https'
import type { ClientCertificate } from '../../../shared/minkms/certificate.js'
import type { PeerReply, PeerTransport } from './peer-transport.js'

/** Splits `host:port` (IPv6 in brackets) for node:https. */
export function splitHostPort (hostPort: string): { hostname: string, port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(hostPort)
  if (m === null) return { hostname: hostPort, port: 7373 }
  return { hostname: m[1] ?? m[2] ?? hostPort, port: Number(m[3]) }
}

export class PeerHttpsTransport implements PeerTransport {
  readonly #cert: ClientCertificate
  readonly #ca: string[] | undefined

  constructor (cert: ClientCertificate, ca: string[] | undefined) {
    this.#cert = cert
    this.#ca = ca
  }

  async call (host: string, method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number): Promise<PeerReply> {
    const { hostname, port } = splitHostPort(host)
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    return await new Promise<PeerReply>((resolve, reject) => {
      const req = request({
        hostname,
        port,
        method,
        path,
        agent: false,
        cert: this.#cert.certPem,
        key: this.#cert.keyPem,
        ...(this.#ca !== undefined && { ca: this.#ca }),
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          Accept: 'application/json',
          ...(payload !== undefined && { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) })
        }
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown
          try { parsed = text === '' ? undefined : JSON.parse(text) as unknown } catch { parsed = undefined }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
      })
      req.on('error', (err) => {
        reject(err.name === 'AbortError' ? new Error(`no answer from ${host} within ${timeoutMs} ms`) : err)
      })
      req.end(payload)
    })
  }
}
