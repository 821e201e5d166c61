// Lines from a byte stream, pulled one at a time (the agent reads `journalctl -o json` with it, the
// coordinator the agents' NDJSON responses). Reading the stream through its async iterator is what
// gives backpressure: nothing is read while the consumer is busy, the stream's buffer fills, the
// pipe or socket fills, and the writer (journalctl, the agent) waits until we pull again.
import { StringDecoder } from 'node:string_decoder'
import type { Readable } from 'node:stream'

/** A line longer than this is not journalctl output nor an API line; stop rather than buffer without bound. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024

/** Thrown when a line exceeds {@link MAX_LINE_BYTES}. */
export class LineTooLongError extends Error {
  constructor () {
    super(`a line exceeded ${MAX_LINE_BYTES} bytes`)
    this.name = 'LineTooLongError'
  }
}

/**
 * Yields each `\n`-terminated line of `stream` (without the newline; a trailing `\r` kept),
 * then a last unterminated line if any. UTF-8 sequences split across chunks are kept whole.
 */
export async function * lines (stream: Readable, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8')
  let pending = ''
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer)
    // Slice each line out of the chunk and cut the consumed part once, not once per line.
    let start = 0
    let nl = pending.indexOf('\n')
    while (nl !== -1) {
      yield pending.slice(start, nl)
      start = nl + 1
      nl = pending.indexOf('\n', start)
    }
    pending = pending.slice(start)
    if (pending.length > maxLineBytes) throw new LineTooLongError()
  }
  pending += decoder.end()
  if (pending !== '') yield pending
}
