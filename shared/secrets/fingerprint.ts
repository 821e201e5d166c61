// Keyed fingerprints let an operator see that a secret changed, or that two nodes hold the same
// one, without seeing it. A plain hash would not do: HSM keys are random, but API keys and
// passwords can be guessed offline against an unkeyed hash, so the hash is an HMAC under a key
// that never leaves the agent. Fingerprints are comparable only under the same key: give every
// agent of a cluster the same fingerprint key if their diffs must be compared across nodes.
import { createHmac, randomBytes } from 'node:crypto'
import { SECRET_PLACEHOLDER, reveal, type Secret } from './secret.js'

/** Characters of base64url kept: 8 characters = 48 bits, enough to tell secrets apart at a glance. */
export const FINGERPRINT_LENGTH = 8

/** A fresh random 32-byte fingerprint key. */
export function createFingerprintKey (): Buffer {
  return randomBytes(32)
}

/** The first {@link FINGERPRINT_LENGTH} base64url characters of HMAC-SHA256(key, value). */
export function fingerprint (value: Secret | string, key: Uint8Array | string): string {
  if (typeof key === 'string' ? key.length === 0 : key.byteLength === 0) {
    throw new TypeError('fingerprint key must not be empty')
  }
  return createHmac('sha256', key).update(reveal(value), 'utf8').digest('base64url').slice(0, FINGERPRINT_LENGTH)
}

/** `***` followed by the fingerprint under `key`; plain `***` when there is no key. */
export function maskSecret (value: Secret | string, key?: Uint8Array | string): string {
  return key === undefined ? SECRET_PLACEHOLDER : SECRET_PLACEHOLDER + fingerprint(value, key)
}
