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
