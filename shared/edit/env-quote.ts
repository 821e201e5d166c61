// Writing EnvironmentFile values so that systemd reads back exactly the string we meant, and so
// that a shell sourcing the same file (operators do `set -a; . /etc/default/minkms`) agrees.

/** Characters that never need quoting, in systemd's and in a POSIX shell's reading. */
const PLAIN_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

/** How to write a value: as it was written before when possible. */
export type EnvQuoting = 'plain' | 'single' | 'double'

/**
 * The source text for `value`. Unquoted when that is unambiguous and `prefer` is 'plain'; single
 * quotes when preferred and the value has no `'`; otherwise double quotes with `"`, `\`, `` ` ``
 * and `$` escaped. The value must not hold NUL, CR or LF (validate first, see editEnvFile).
 */
export function quoteEnvValue (value: string, prefer: EnvQuoting = 'plain'): string {
  if (prefer === 'plain' && (value === '' || PLAIN_SAFE.test(value))) return value
  if (prefer === 'single' && !value.includes('\'')) return `'${value}'`
  return `"${value.replace(/["\\`$]/g, c => `\\${c}`)}"`
}

/** Why `value` cannot be an EnvironmentFile value, or undefined when it can. */
export function envValueProblem (value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string'
  if (value.includes('\0')) return 'must not contain NUL'
  if (/[\r\n]/.test(value)) return 'must not contain a line break (CR or LF)'
  return undefined
}
