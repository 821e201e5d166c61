// The last safety net before text leaves the process (a diff, a log line, an error message):
// every occurrence of a known secret, and everything that looks like a key, is replaced.
import { maskSecret } from './fingerprint.js'
import { secretValuePattern } from './patterns.js'
import { reveal, type Secret } from './secret.js'

/**
 * A secret to find in text. A plain entry is matched and fingerprinted as itself; `{ text,
 * secret }` matches `text` (a quoted, escaped or partial source form of the secret) but shows the
 * fingerprint of `secret`, so every form of one secret shows the same fingerprint.
 */
export type RedactEntry = Secret | string | { readonly text: string, readonly secret: Secret | string }

/** Options for {@link redactText}. */
export interface RedactTextOptions {
  /** Fingerprint key: replacements read `***<fingerprint>`; without it plain `***`. */
  key?: Uint8Array | string
  /** Also replace API-key and HSM-key lookalikes that are not in the list (default true). */
  patterns?: boolean
}

/**
 * Replaces every occurrence of each secret in `text` with `***<fingerprint>`. Matching is done in
 * one pass, longest first, so a secret that contains another is replaced whole and a replacement
 * is never matched again. Secrets under 8 characters match only as whole tokens (not inside a
 * longer run of letters, digits and _). Empty entries are ignored.
 */
export function redactText (text: string, secrets: Iterable<RedactEntry>, opts: RedactTextOptions = {}): string {
  const fingerprintOf = new Map<string, string>()
  for (const entry of secrets) {
    const [match, value] = typeof entry === 'object' && 'text' in entry ? [entry.text, reveal(entry.secret)] : [reveal(entry), reveal(entry)]
    if (match.length > 0 && !fingerprintOf.has(match)) fingerprintOf.set(match, value)
  }
  const alternatives = [...fingerprintOf.keys()].sort((a, b) => b.length - a.length).map(pattern)
  if (opts.patterns !== false) alternatives.push(secretValuePattern().source)
  if (alternatives.length === 0) return text
  return text.replace(new RegExp(alternatives.join('|'), 'g'), found => maskSecret(fingerprintOf.get(found) ?? found, opts.key))
}

// Secrets shorter than this match only as whole tokens: a 3-letter password must not turn every
// word holding those letters into `***…`. Real API and HSM keys are far longer.
const SHORT_SECRET = 8

function pattern (secret: string): string {
  const literal = escapeRegExp(secret)
  return secret.length >= SHORT_SECRET ? literal : `(?<![A-Za-z0-9_])${literal}(?![A-Za-z0-9_])`
}

function escapeRegExp (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
