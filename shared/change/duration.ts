// Durations in change specs are written the way operators write them in systemd and Go tools:
// `500ms`, `60s`, `2m`, `1h`, or compounds such as `1m30s`. Only whole numbers: a fraction of a
// millisecond is meaningless for restart verification and `1.5m` invites misreading.

/** Regex source of a valid duration (also used by the TypeBox schema). */
export const DURATION_PATTERN = '^(?:[0-9]+(?:ms|s|m|h))+$'

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Milliseconds in a duration string, or undefined when it is not one (see {@link DURATION_PATTERN}). */
export function parseDuration (s: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(s)) return undefined
  let ms = 0
  for (const m of s.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN)
  }
  return Number.isSafeInteger(ms) ? ms : undefined
}

/**
 * A duration string for `ms`, written as operators write them: `1500ms`, `60s` (seconds up to ten
 * minutes), then `10m`, `1h30m`. parseDuration(formatDuration(ms)) === ms.
 */
export function formatDuration (ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration: ${ms}`)
  if (ms % 1000 !== 0) return `${ms}ms`
  let s = ms / 1000
  if (s < 600) return `${s}s`
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`
}

/** The longest restart verification deadline a change or the agent config may ask for. */
export const MAX_VERIFY_MS = 3_600_000

/**
 * Why a verify window is unusable, per field, or an empty list: each parses, the deadline is
 * longer than 0 and at most {@link MAX_VERIFY_MS}, stableFor is shorter than the deadline. A
 * duration too large to count in milliseconds is refused, never read as 0.
 */
export function verifyWindowProblems (deadline: string, stableFor: string): Array<{ field: 'deadline' | 'stableFor', message: string }> {
  return verifyWindowMsProblems(parseDuration(deadline), parseDuration(stableFor))
}

/** {@link verifyWindowProblems} on milliseconds; undefined for a duration too large to count. */
export function verifyWindowMsProblems (d: number | undefined, s: number | undefined): Array<{ field: 'deadline' | 'stableFor', message: string }> {
  const out: Array<{ field: 'deadline' | 'stableFor', message: string }> = []
  const max = formatDuration(MAX_VERIFY_MS)
  if (d === undefined || d > MAX_VERIFY_MS) out.push({ field: 'deadline', message: `must be at most ${max}` })
  else if (d === 0) out.push({ field: 'deadline', message: 'must be longer than 0' })
  if (s === undefined || s > MAX_VERIFY_MS) out.push({ field: 'stableFor', message: `must be at most ${max} and shorter than deadline` })
  else if (d !== undefined && d > 0 && d <= MAX_VERIFY_MS && s >= d) out.push({ field: 'stableFor', message: 'stableFor must be shorter than deadline: the unit must prove itself stable before the deadline' })
  return out
}
