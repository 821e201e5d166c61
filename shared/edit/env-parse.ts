// Reading a systemd EnvironmentFile exactly as systemd does, keeping the source offsets of every
// assignment so an editor can change one and leave every other byte alone.
//
// This is a port of the state machine in systemd's src/basic/env-file.c
// (`parse_env_file_internal`, used by `load_env_file` for EnvironmentFile=), plus the filtering in
// src/core/execute.c (`strv_env_clean_with_callback`), as of systemd v254+. The rules, see also
// systemd.exec(5) "EnvironmentFile=":
// - Lines whose first non-whitespace character is `#` or `;` are comments; blank lines are skipped.
//   A comment never continues onto the next line (since v254; before, a trailing `\` did).
// - `KEY=VALUE`; whitespace before KEY and around `=` is dropped; trailing whitespace of KEY too.
// - A line without `=` is ignored.
// - Unquoted values: leading and trailing whitespace is dropped, inner whitespace kept; `\x` keeps
//   x (so `\\` is `\`); a trailing `\` joins the next line (the line break is dropped). `#`, `;`
//   and quotes after the first character are ordinary characters (no inline comments).
// - `'…'`: everything literal, may span lines. `"…"`: may span lines; `\"`, `\\`, `` \` ``, `\$`
//   unescape, `\` + newline is a continuation, any other `\x` keeps both characters.
// - Quoted and unquoted parts next to each other concatenate (`A="a"b` is `ab`); whitespace
//   between a closing quote and the next part is dropped.
// - CR is a line break like LF.
// - Names must match [A-Za-z_][A-Za-z0-9_]*; others are dropped with "Ignoring invalid
//   environment assignment". So `export KEY=value` (name "export KEY") is IGNORED by systemd:
//   KEY is not set. This parser reports such lines with `valid: false` and `exported: 'KEY'`.
// - A UTF-8 byte order mark is not skipped: systemd reads it as the first characters of the first
//   name, which is then invalid and the line ignored. Reported like an `export` line (`exported:
//   'KEY'`, the name behind the mark), because the line still holds KEY's value. Removing that
//   line removes the mark with it: left in front of the next line, it would hide that one instead.
// - Duplicate keys: the last assignment wins.
// - No `$VAR` expansion (that is ExecStart='s job).
import { lineAt } from './text-lines.js'

/** One `KEY=VALUE` assignment as systemd reads it, with where it sits in the text. */
export interface EnvAssignment {
  /** The name as systemd sees it (may be invalid, e.g. `export KEY`). */
  readonly key: string
  /** The value after unquoting and unescaping. */
  readonly value: string
  /** True when systemd uses the assignment (the name is valid). */
  readonly valid: boolean
  /** For lines systemd ignores that still name KEY (`export KEY=…`, or KEY behind a byte order mark), the KEY. */
  readonly exported?: string
  /** How the value was written: one quoted string, unquoted, empty, or a mix of parts. */
  readonly quoting: 'plain' | 'single' | 'double' | 'empty' | 'mixed'
  /** 1-based line of the name. */
  readonly line: number
  /** Offset of the start of the line holding the name. */
  readonly start: number
  /** Offset just after the line break that ends the assignment (or the text end). */
  readonly end: number
  /** Offset of the value's first source character (just after `=` when the value is empty). */
  readonly valueStart: number
  /** Offset just after the value's last source character (closing quote, escape, last non-blank). */
  readonly valueEnd: number
}

/** A line systemd ignores, and why. */
export interface IgnoredEnvLine {
  /** 1-based line. */
  readonly line: number
  /** Why systemd ignores it. */
  readonly reason: 'no-equals' | 'invalid-name' | 'export-prefix' | 'byte-order-mark'
  /** The name, for invalid names (names are not secret). */
  readonly key?: string
}

/** A parsed EnvironmentFile. */
export interface EnvFile {
  /** Every assignment in file order, including ones systemd ignores (`valid: false`). */
  readonly assignments: readonly EnvAssignment[]
  /** Lines systemd ignores. */
  readonly ignored: readonly IgnoredEnvLine[]
  /** Set when the text ends inside a quoted value or right after a `\`: appending would extend that value. */
  readonly openAtEnd?: { readonly line: number }
}

/** Valid variable names, as systemd's env_name_is_valid. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/
const EXPORT_PREFIX = /^export[ \t]+([A-Za-z_][A-Za-z0-9_]*)$/
const BOM = '\uFEFF'

const WHITESPACE = ' \t\n\r'
const NEWLINE = '\n\r'
// Characters a backslash unescapes inside double quotes (systemd's SHELL_NEED_ESCAPE).
const SHELL_NEED_ESCAPE = '"\\`$'

type State = 'PRE_KEY' | 'KEY' | 'PRE_VALUE' | 'VALUE' | 'VALUE_ESCAPE' | 'SINGLE' | 'DOUBLE' | 'DOUBLE_ESCAPE' | 'COMMENT'

/** Parses an EnvironmentFile by systemd's rules (see the file comment). Never throws. */
export function parseEnvFile (text: string): EnvFile {
  const assignments: EnvAssignment[] = []
  const ignored: IgnoredEnvLine[] = []
  let state: State = 'PRE_KEY'
  let key = ''
  let keyWs = -1 // length of key before its trailing whitespace, -1 when none
  let value = ''
  let valueWs = -1 // same for an unquoted value
  let start = 0
  let keyPos = 0
  let valueStart = 0
  let valueEnd = 0
  let parts: string[] = []

  const push = (endPos: number): void => {
    const name = keyWs === -1 ? key : key.slice(0, keyWs)
    const bom = name.startsWith(BOM)
    const exported = bom ? (ENV_NAME_PATTERN.test(name.slice(BOM.length)) ? name.slice(BOM.length) : undefined) : EXPORT_PREFIX.exec(name)?.[1]
    const valid = ENV_NAME_PATTERN.test(name)
    const keyLine = lineAt(text, keyPos)
    assignments.push({
      key: name,
      value,
      valid,
      ...(exported === undefined ? {} : { exported }),
      quoting: quotingOf(parts),
      line: keyLine,
      start,
      end: endPos,
      valueStart,
      valueEnd
    })
    if (!valid) {
      ignored.push(bom
        ? { line: keyLine, reason: 'byte-order-mark', ...(exported === undefined ? {} : { key: exported }) }
        : exported === undefined
          ? { line: keyLine, reason: 'invalid-name', key: name }
          : { line: keyLine, reason: 'export-prefix', key: exported })
    }
  }
  // Position after a line break at `i`, taking CRLF as one break.
  const breakEnd = (i: number): number => text[i] === '\r' && text[i + 1] === '\n' ? i + 2 : i + 1

  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? ''
    switch (state) {
      case 'PRE_KEY':
        if (c === '#' || c === ';') state = 'COMMENT'
        else if (!WHITESPACE.includes(c)) {
          state = 'KEY'
          key = c
          keyWs = -1
          keyPos = i
          start = lineBegin(text, i)
        }
        break
      case 'KEY':
        if (NEWLINE.includes(c)) {
          ignored.push({ line: lineAt(text, keyPos), reason: 'no-equals' })
          state = 'PRE_KEY'
        } else if (c === '=') {
          state = 'PRE_VALUE'
          value = ''
          valueWs = -1
          parts = []
          valueStart = valueEnd = i + 1
        } else {
          if (!WHITESPACE.includes(c)) keyWs = -1
          else if (keyWs === -1) keyWs = key.length
          key += c
        }
        break
      case 'PRE_VALUE':
        if (NEWLINE.includes(c)) {
          push(breakEnd(i))
          state = 'PRE_KEY'
        } else if (!WHITESPACE.includes(c)) {
          if (parts.length === 0) valueStart = i
          if (c === '\'') { state = 'SINGLE'; parts.push('single') } else if (c === '"') { state = 'DOUBLE'; parts.push('double') } else if (c === '\\') { state = 'VALUE_ESCAPE'; parts.push('plain') } else {
            state = 'VALUE'
            parts.push('plain')
            value += c
            valueWs = -1
            valueEnd = i + 1
          }
        }
        break
      case 'VALUE':
        if (NEWLINE.includes(c)) {
          if (valueWs !== -1) value = value.slice(0, valueWs)
          push(breakEnd(i))
          state = 'PRE_KEY'
        } else if (c === '\\') {
          state = 'VALUE_ESCAPE'
          valueWs = -1
        } else {
          if (!WHITESPACE.includes(c)) { valueWs = -1; valueEnd = i + 1 } else if (valueWs === -1) valueWs = value.length
          value += c
        }
        break
      case 'VALUE_ESCAPE':
        state = 'VALUE'
        if (!NEWLINE.includes(c)) value += c
        valueEnd = i + 1
        break
      case 'SINGLE':
        if (c === '\'') { state = 'PRE_VALUE'; valueEnd = i + 1 } else value += c
        break
      case 'DOUBLE':
        if (c === '"') { state = 'PRE_VALUE'; valueEnd = i + 1 } else if (c === '\\') state = 'DOUBLE_ESCAPE'
        else value += c
        break
      case 'DOUBLE_ESCAPE':
        state = 'DOUBLE'
        if (SHELL_NEED_ESCAPE.includes(c)) value += c
        else if (c !== '\n') value += '\\' + c
        break
      case 'COMMENT':
        // A `\` before the line break no longer continues a comment (systemd >= 254).
        if (NEWLINE.includes(c)) state = 'PRE_KEY'
        break
    }
  }

  let openAtEnd: { line: number } | undefined
  if (state === 'PRE_VALUE' || state === 'VALUE' || state === 'VALUE_ESCAPE' || state === 'SINGLE' || state === 'DOUBLE' || state === 'DOUBLE_ESCAPE') {
    if (state === 'VALUE' && valueWs !== -1) value = value.slice(0, valueWs)
    if (state === 'SINGLE' || state === 'DOUBLE' || state === 'DOUBLE_ESCAPE' || state === 'VALUE_ESCAPE') {
      valueEnd = text.length
      openAtEnd = { line: lineAt(text, keyPos) }
    }
    push(text.length)
  } else if (state === 'KEY') {
    ignored.push({ line: lineAt(text, keyPos), reason: 'no-equals' })
  }
  return openAtEnd === undefined ? { assignments, ignored } : { assignments, ignored, openAtEnd }
}

/** The variables systemd passes to the service: valid names only, the last assignment wins. */
export function effectiveEnv (file: EnvFile): Map<string, string> {
  const env = new Map<string, string>()
  for (const a of file.assignments) {
    if (!a.valid) continue
    env.delete(a.key) // keep the map in order of the winning assignments
    env.set(a.key, a.value)
  }
  return env
}

/** The last assignment systemd uses for `key`, if any. */
export function effectiveAssignment (file: EnvFile, key: string): EnvAssignment | undefined {
  return file.assignments.findLast(a => a.valid && a.key === key)
}

function quotingOf (parts: readonly string[]): EnvAssignment['quoting'] {
  if (parts.length === 0) return 'empty'
  if (parts.length === 1) return parts[0] as 'plain' | 'single' | 'double'
  // Several unquoted pieces (after escapes) are still one unquoted value.
  return parts.every(p => p === 'plain') ? 'plain' : 'mixed'
}

function lineBegin (text: string, i: number): number {
  let p = i
  while (p > 0 && !NEWLINE.includes(text[p - 1] ?? '')) p--
  return p
}
