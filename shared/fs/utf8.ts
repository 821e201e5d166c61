// Decoding a file's bytes as UTF-8 without losing any. Node's `readFile(path, 'utf8')` turns every
// invalid byte into U+FFFD, so an editor that writes the text back changes bytes it never meant to
// touch (a Latin-1 `ü` in a comment becomes `�`). Here the caller learns that it happened.

const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The text of `bytes`, and when they are not valid UTF-8 the 1-based line of the first bad byte. */
export function decodeUtf8 (bytes: Uint8Array): { text: string, invalidLine?: number } {
  try {
    return { text: STRICT.decode(bytes) }
  } catch {
    // ignoreBOM keeps a byte order mark in the text, as readFile does, so it is written back.
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)
    return { text, invalidLine: firstInvalidLine(bytes) }
  }
}

function firstInvalidLine (bytes: Uint8Array): number {
  let line = 1
  let start = 0
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      // A line feed byte never occurs inside a multi-byte UTF-8 sequence, so lines decode alone.
      try { STRICT.decode(bytes.subarray(start, i)) } catch { return line }
      line++
      start = i + 1
    }
  }
  return line
}
