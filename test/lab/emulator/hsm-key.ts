// The software HSM key of MINIO_KMS_HSM_KEY: `hsm:aes256:<base64 of 32 bytes>` (the format
// `minkms --soft-hsm` prints). Parsing never echoes the value: error messages describe what is
// wrong, not what was given.
import { randomBytes } from 'node:crypto'

const PREFIX = 'hsm:aes256:'

/** Why a value is not a usable HSM key, or the 32 key bytes. */
export type HsmKeyParse = { ok: true, key: Buffer } | { ok: false, reason: string }

/** Parses `hsm:aes256:<base64>` (standard or URL-safe alphabet, padding optional). */
export function parseHsmKey (text: string): HsmKeyParse {
  const value = text.trim()
  if (!value.startsWith(PREFIX)) return { ok: false, reason: `expected the format '${PREFIX}<base64 of 32 bytes>'` }
  const body = value.slice(PREFIX.length)
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(body)) return { ok: false, reason: 'the key is not valid base64' }
  const key = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (key.length !== 32) return { ok: false, reason: `the key must decode to 32 bytes, not ${key.length}` }
  return { ok: true, key }
}

/** Formats key bytes as an HSM key string. */
export function formatHsmKey (key: Buffer): string {
  return PREFIX + key.toString('base64')
}

/** A fresh random HSM key (what `minkms --soft-hsm` prints). */
export function generateHsmKey (): string {
  return formatHsmKey(randomBytes(32))
}
