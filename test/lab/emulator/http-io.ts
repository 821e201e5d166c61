// Small HTTP helpers of the server: bounded body reading, responses that always carry an explicit
// Content-Length (the minkms SDK refuses chunked responses), and error bodies in the format the
// request's Accept header prefers (protobuf ErrResponse or JSON {"message"}).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { encodeMessage } from '../../../shared/minkms/messages.js'
import { KmsHttpError } from './kms-error.js'

/** Largest request body accepted. */
export const MAX_BODY = 4 * 1024 * 1024

/** Reads the whole body; rejects with 413 when it passes `limit`. */
export async function readBody (req: IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const b = chunk as Buffer
    size += b.length
    if (size > limit) throw new KmsHttpError(413, `request body too large (limit ${limit} bytes)`)
    chunks.push(b)
  }
  return Buffer.concat(chunks)
}

/** Sends `body` with a Content-Length and closes the response. */
export function send (res: ServerResponse, status: number, body: Uint8Array | string, contentType: string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(bytes.length) })
  res.end(bytes)
}

/** Sends a bodiless status (health probes, write commands). */
export function sendEmpty (res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': '0' })
  res.end()
}

function quality (accept: string, type: string): number {
  let best = -1
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().split(';').map((s) => s.trim())
    const q = params.find((p) => p.startsWith('q='))
    const weight = q === undefined ? 1 : Number(q.slice(2))
    const [t, s] = type.split('/')
    const matches = range === type || range === '*/*' || range === `${t}/*`
    // A specific match beats a wildcard with the same q; we add a tiny bonus to prefer it.
    const score = matches ? (Number.isFinite(weight) ? weight : 0) + (range === type ? 0.0001 : 0) : -1
    if (score > best && s !== undefined) best = score
  }
  return best
}

/** True when the Accept header prefers JSON over protobuf (no header or `application/*` → protobuf). */
export function prefersJson (accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return false
  const json = quality(accept, 'application/json')
  const proto = quality(accept, 'application/octet-stream')
  return json > 0 && json > proto
}

/** Sends an error in the format the request prefers. */
export function sendError (req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  if (prefersJson(req.headers.accept)) send(res, status, JSON.stringify({ message }), 'application/json')
  else send(res, status, encodeMessage('ErrResponse', { message }), 'application/octet-stream')
}
