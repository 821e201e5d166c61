// A secret value (API key, HSM key, password) that cannot leak by accident: every way Node turns
// an object into text (template strings, String(), JSON.stringify, util.inspect, console.log,
// pino) shows `***`. The value is reachable only through reveal(), so each place that needs the
// clear text is visible in the code and can be reviewed.
import { inspect } from 'node:util'

/** What every string form of a {@link Secret} shows. */
export const SECRET_PLACEHOLDER = '***'

/** Wraps a secret string. Immutable; compare with {@link Secret.equals}, never by reading it. */
export class Secret {
  readonly #value: string

  /** Wraps `value`. */
  constructor (value: string) {
    if (typeof value !== 'string') throw new TypeError('Secret value must be a string')
    this.#value = value
    Object.freeze(this)
  }

  /** The clear text. Call only where the secret must leave the process (a file, a TLS handshake). */
  reveal (): string { return this.#value }

  /** True when both hold the same value. */
  equals (other: Secret | string): boolean {
    return reveal(other) === this.#value
  }

  /** `***`, never the value. */
  toString (): string { return SECRET_PLACEHOLDER }
  /** `***`, never the value. */
  toJSON (): string { return SECRET_PLACEHOLDER }
  /** `Secret <***>`, never the value (console.log, util.inspect). */
  [inspect.custom] (): string { return `Secret <${SECRET_PLACEHOLDER}>` }
}

/** True when `v` is a {@link Secret}. */
export function isSecret (v: unknown): v is Secret {
  return v instanceof Secret
}

/** The clear text of a Secret, or the string itself. */
export function reveal (v: Secret | string): string {
  return v instanceof Secret ? v.reveal() : v
}
