// The body framing of POST /v1/kms/{enclave} (minkms.md §4.3): a request or a response is a
// sequence of `uint16 BE command ‖ uint32 BE payload length ‖ payload` frames. The server answers
// a request with frames carrying the same command, one per request frame.
import { MinkmsProtocolError } from './errors.js'

/** One command frame. */
export interface Frame {
  /** Command code (see commands.ts); 0..65535 on the wire. */
  command: number
  /** The protobuf-encoded message. */
  payload: Uint8Array
}

/** Bytes of a frame header: command (2) + payload length (4). */
export const FRAME_HEADER_SIZE = 6

const MAX_COMMAND = 0xffff
const MAX_PAYLOAD = 0xffffffff

/** Serialises frames into one body. Throws MinkmsProtocolError for an out-of-range command. */
export function encodeFrames (frames: readonly Frame[]): Buffer {
  let size = 0
  for (const f of frames) {
    if (!Number.isInteger(f.command) || f.command < 0 || f.command > MAX_COMMAND) {
      throw new MinkmsProtocolError(`frame command ${f.command} is not a uint16`)
    }
    if (f.payload.length > MAX_PAYLOAD) throw new MinkmsProtocolError('frame payload exceeds 4 GiB')
    size += FRAME_HEADER_SIZE + f.payload.length
  }
  const out = Buffer.allocUnsafe(size)
  let at = 0
  for (const f of frames) {
    at = out.writeUInt16BE(f.command, at)
    at = out.writeUInt32BE(f.payload.length, at)
    out.set(f.payload, at)
    at += f.payload.length
  }
  return out
}

/** Shorthand for a body of frames that all carry the same command. */
export function encodeCommandFrames (command: number, payloads: readonly Uint8Array[]): Buffer {
  return encodeFrames(payloads.map(payload => ({ command, payload })))
}

/**
 * Splits a body into frames. An empty body is zero frames. Throws MinkmsProtocolError when the
 * body ends inside a header or a payload. Payloads are views into `body`, not copies.
 */
export function decodeFrames (body: Uint8Array): Frame[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const frames: Frame[] = []
  let at = 0
  while (at < body.length) {
    if (body.length - at < FRAME_HEADER_SIZE) {
      throw new MinkmsProtocolError(`truncated frame header at byte ${at}: ${body.length - at} of ${FRAME_HEADER_SIZE} bytes`)
    }
    const command = view.getUint16(at)
    const length = view.getUint32(at + 2)
    at += FRAME_HEADER_SIZE
    if (body.length - at < length) {
      throw new MinkmsProtocolError(`truncated frame payload for command ${command}: ${body.length - at} of ${length} bytes`)
    }
    frames.push({ command, payload: body.subarray(at, at + length) })
    at += length
  }
  return frames
}
