// Offsets and lines in a text. Editors splice whole lines so that a diff of old and new text
// shows exactly the lines that changed, and keep the file's own line ending.

/** The line ending a text uses: CRLF when its first line ends with one, else LF. */
export function eolOf (text: string): '\n' | '\r\n' {
  const lf = text.indexOf('\n')
  return lf > 0 && text[lf - 1] === '\r' ? '\r\n' : '\n'
}

/** Offset of the start of the line holding `pos`. */
export function lineStartAt (text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1
}

/** `pos` itself when it starts a line, else the offset just after the end of its line (or the text end). */
export function nextLineStart (text: string, pos: number): number {
  if (pos === 0 || text[pos - 1] === '\n') return pos
  const lf = text.indexOf('\n', pos)
  return lf === -1 ? text.length : lf + 1
}

/** 1-based line and column of `pos`. */
export function lineColumnAt (text: string, pos: number): { line: number, column: number } {
  let line = 1
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) line++
  return { line, column: pos - lineStartAt(text, pos) + 1 }
}

/** 1-based line of `pos`. */
export function lineAt (text: string, pos: number): number {
  return lineColumnAt(text, pos).line
}

/** True when the text is empty or ends with a line feed. */
export function endsWithNewline (text: string): boolean {
  return text.length === 0 || text.endsWith('\n')
}
