// Raw HTTP/1.1 over a TCP (or TLS) socket, for requests no well-behaved client would send: bad
// framing, NUL bytes, stalled bodies. Each request asks for `Connection: close`, so the answer
// ends with the socket.
import { connect, type Socket } from 'node:net'

/** A parsed answer; status 0 when the server closed without answering. */
export interface RawAnswer { status: number, headers: string, body: string }

/** Sends `payload` (a whole request) to `base` (http://host:port) and reads the answer. */
export async function rawRequest (base: string, payload: string | Buffer, opts: { timeoutMs?: number } = {}): Promise<RawAnswer> {
  const url = new URL(base)
  const socket = connect(Number(url.port), url.hostname)
  return await answerOf(socket, payload, opts.timeoutMs ?? 5000)
}

/** Writes `payload` on `socket` and resolves with what comes back before the socket closes. */
export async function answerOf (socket: Socket, payload: string | Buffer, timeoutMs: number): Promise<RawAnswer> {
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer within ${timeoutMs} ms`)) }, timeoutMs)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => {}) // a reset after the answer is fine; no answer shows as status 0
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const sep = text.indexOf('\r\n\r\n')
      const head = sep === -1 ? text : text.slice(0, sep)
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
      resolve({ status, headers: head, body: sep === -1 ? '' : text.slice(sep + 4) })
    })
    socket.write(payload)
  })
}

/** A POST with a body and its Content-Length. */
export function post (path: string, contentType: string, body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body
  return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: ${contentType}\r\nContent-Length: ${b.length}\r\n\r\n`), b])
}

/** A GET. */
export function get (path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`
}
