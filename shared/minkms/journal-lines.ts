// The journal lines of minkms that keyroll reads as evidence, in one place: the agent's verifier
// matches them while it watches a restart, and the coordinator matches the same patterns when it
// reads the journal itself, so the two readings can only disagree about the facts, never about
// what a line means.
import { parseApiKey } from './keys.js'

/** The line minkms prints when it is ready to serve (`=> Server is up and running...`). */
export const MINKMS_READY = /Server is up and running/

/** A line minkms prints when it gives up: a `FATAL` level line, or a Go-style `panic:`. */
export const MINKMS_FATAL = /^\S+ \S+ FATAL |^panic: |\bFATAL\b/

// The banner's `API Key` line names the node's root API key, a secret. The agent serves it with
// the key in its safe form `k1:*** (h1:…)` (the key's own string form: its kind and its identity,
// which is not secret), so whoever reads the journal through the agent can tell that a restart
// changed the node's root identity without ever seeing the key.
const API_KEY_LINE = /^(API Key\s+)(k\d+:[A-Za-z0-9_-]+)\s*$/
const SAFE_API_KEY_LINE = /^API Key\s+k\d+:\*\*\* \((h1:[A-Za-z0-9_-]{43})\)$/

/** `message` with the banner's root API key replaced by its safe form (`***` when it does not parse); other lines unchanged. */
export function withSafeApiKey (message: string): string {
  const m = API_KEY_LINE.exec(message)
  if (m === null) return message
  const [, label = '', key = ''] = m
  try {
    return `${label}${String(parseApiKey(key))}`
  } catch {
    return `${label}***`
  }
}

/**
 * The root API key a banner `API Key` line names in clear (as minkms writes it), or undefined for
 * any other line, the safe form included. Only the agent's root-key hand-over calls this
 * (agent/root-api-key.ts); every other reader sees the line through {@link withSafeApiKey}.
 */
export function rootApiKeyOfLine (message: string): string | undefined {
  return API_KEY_LINE.exec(message)?.[2]
}

/** The root identity a banner `API Key` line in its safe form names, or undefined for any other line. */
export function rootIdentityOfLine (message: string): string | undefined {
  return SAFE_API_KEY_LINE.exec(message)?.[1]
}
