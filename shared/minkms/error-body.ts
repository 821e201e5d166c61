// Turns a non-200 minkms answer into the server's message (SDK kms/error.go readError): the body
// is decoded by Content-Type, and at most 5 KB of it is read so a misbehaving server or a proxy's
// HTML page cannot make the client buffer without bound.
import { decodeMessage } from './messages.js'

/** The most bytes of an error body that are read. */
export const MAX_ERROR_BODY = 5 * 1024

/**
 * The error message in `body` (already cut to MAX_ERROR_BODY): an ErrResponse protobuf for
 * application/octet-stream, `{"message"}` for application/json, the text otherwise. A body that
 * does not decode as its Content-Type says is returned as text.
 */
export function errorMessageOf (contentType: string | undefined, body: Uint8Array): string {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  const text = Buffer.from(body).toString('utf8').trim()
  if (type === 'application/octet-stream') {
    try {
      return decodeMessage('ErrResponse', body).message
    } catch {
      return text
    }
  }
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(text)
      const message = (parsed as { message?: unknown } | null)?.message
      if (typeof message === 'string') return message
    } catch {}
    return text
  }
  return text
}
