// Editing a systemd EnvironmentFile (/etc/default/minkms) without touching any other line.
//
// - set KEY: the assignment systemd uses (the last valid one) gets the new value in place: the
//   text before the value (indentation, spaces around `=`) and after it (trailing blanks) stays,
//   and the value keeps its quote style when it can. Earlier, shadowed assignments of KEY are left
//   alone (systemd ignores them already). A new KEY is appended at the end as `KEY=value`, after a
//   line break if the file does not end with one (a file without a final newline keeps that).
// - unset KEY: every assignment of KEY goes, with all its lines (continuations, multi-line
//   quotes), and so do `export KEY=…` lines: systemd ignores those, but they still hold the value
//   and a shell sourcing the file would set it. A secret removed from the node must be gone.
// - Unset runs before set. A change that changes nothing returns the original text.
// - The result is parsed back and must mean exactly the old variables with the change applied;
//   otherwise EnvEditMismatchError (e.g. the file ends inside an unterminated quote).
import { EnvEditMismatchError, InvalidEnvKeyError, InvalidEnvValueError } from './errors.js'
import { ENV_NAME_PATTERN, effectiveAssignment, effectiveEnv, parseEnvFile, type EnvAssignment } from './env-parse.js'
import { envValueProblem, quoteEnvValue, type EnvQuoting } from './env-quote.js'
import { endsWithNewline, eolOf } from './text-lines.js'

/** What to change in an EnvironmentFile. */
export interface EnvEdit {
  /** Variables to set, in order. */
  readonly set?: Readonly<Record<string, string>>
  /** Variables to remove. */
  readonly unset?: readonly string[]
}

/**
 * Applies `edit` to the EnvironmentFile `text`; returns the original string when nothing changes.
 * Throws InvalidEnvKeyError, InvalidEnvValueError, EnvEditMismatchError. Error messages name keys,
 * never values.
 */
export function editEnvFile (text: string, edit: EnvEdit): string {
  const sets = Object.entries(edit.set ?? {})
  const unsets = edit.unset ?? []
  for (const key of [...unsets, ...sets.map(([k]) => k)]) {
    if (!ENV_NAME_PATTERN.test(key)) throw new InvalidEnvKeyError(key)
  }
  for (const [key, value] of sets) {
    const problem = envValueProblem(value)
    if (problem !== undefined) throw new InvalidEnvValueError(key, problem)
  }

  const file = parseEnvFile(text)
  const cuts: Array<{ start: number, end: number, insert: string }> = []
  const unsetKeys = new Set(unsets)
  for (const a of file.assignments) {
    if ((a.valid && unsetKeys.has(a.key)) || (a.exported !== undefined && unsetKeys.has(a.exported))) {
      cuts.push(removal(text, a))
    }
  }

  const appended: string[] = []
  for (const [key, value] of sets) {
    const current = unsetKeys.has(key) ? undefined : effectiveAssignment(file, key)
    if (current === undefined) {
      appended.push(`${key}=${quoteEnvValue(value)}`)
    } else if (current.value !== value) {
      cuts.push({ start: current.valueStart, end: current.valueEnd, insert: quoteEnvValue(value, preferredQuoting(current)) })
    }
  }
  if (appended.length > 0 && file.openAtEnd !== undefined) {
    throw new EnvEditMismatchError(`the file ends inside a quoted value or after a trailing backslash (assignment on line ${file.openAtEnd.line}); a new line would become part of it, fix that line first`)
  }
  if (cuts.length === 0 && appended.length === 0) return text

  let out = applyCuts(text, cuts)
  if (appended.length > 0) {
    const eol = eolOf(text)
    out = endsWithNewline(out)
      ? out + appended.map(l => l + eol).join('')
      : out + appended.map(l => eol + l).join('')
  }
  verify(text, out, sets, unsets)
  return out
}

function preferredQuoting (a: EnvAssignment): EnvQuoting {
  return a.quoting === 'single' || a.quoting === 'double' ? a.quoting : 'plain'
}

// The lines of one assignment. When it is the last thing in a file without a final newline, the
// line break before it goes instead, so the file keeps ending without one.
function removal (text: string, a: EnvAssignment): { start: number, end: number, insert: string } {
  if (a.end === text.length && !endsWithNewline(text) && a.start > 0) {
    const before = text[a.start - 2] === '\r' && text[a.start - 1] === '\n' ? 2 : 1
    return { start: a.start - before, end: a.end, insert: '' }
  }
  return { start: a.start, end: a.end, insert: '' }
}

// Cuts never overlap except where a removed last line reaches back into a removed previous one;
// merging overlapping removals handles that.
function applyCuts (text: string, cuts: ReadonlyArray<{ start: number, end: number, insert: string }>): string {
  const sorted = [...cuts].sort((a, b) => a.start - b.start)
  const merged: Array<{ start: number, end: number, insert: string }> = []
  for (const c of sorted) {
    const prev = merged.at(-1)
    if (prev !== undefined && c.start < prev.end) {
      prev.end = Math.max(prev.end, c.end)
      prev.insert += c.insert
    } else merged.push({ ...c })
  }
  let out = text
  for (const c of merged.reverse()) out = out.slice(0, c.start) + c.insert + out.slice(c.end)
  return out
}

function verify (before: string, after: string, sets: ReadonlyArray<[string, string]>, unsets: readonly string[]): void {
  const expected = effectiveEnv(parseEnvFile(before))
  for (const k of unsets) expected.delete(k)
  for (const [k, v] of sets) expected.set(k, v)
  const actual = effectiveEnv(parseEnvFile(after))
  const keys = new Set([...expected.keys(), ...actual.keys()])
  for (const k of keys) {
    if (expected.get(k) !== actual.get(k)) {
      throw new EnvEditMismatchError(`${k} would not read back as intended; check the lines around it for unbalanced quotes or trailing backslashes`)
    }
  }
}
