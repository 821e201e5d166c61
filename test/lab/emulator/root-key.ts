// The root (SysAdmin) API key. Real minkms derives it from the HSM with
// an unpublished algorithm; the emulator uses its own derivation so that every node started with
// the same MINIO_KMS_HSM_KEY prints the same `k1:` key and trusts the others with it.
import { createHmac } from 'node:crypto'

/** Domain separation label of the derivation (changing it changes every lab root key). */
const LABEL = 'minkms-emulator root api key v1'

/** The Ed25519 seed of the root key: HMAC-SHA256(hsmKey, LABEL). */
export function rootKeySeed (hsmKey: Buffer): Buffer {
  return createHmac('sha256', hsmKey).update(LABEL).digest()
}

/** A `k1:` API key from a 32-byte Ed25519 seed (base64url without padding). */
export function k1FromSeed (seed: Buffer): string {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed has 32 bytes')
  return 'k1:' + seed.toString('base64url')
}

/** The root API key that nodes sharing `hsmKey` use. */
export function deriveRootApiKey (hsmKey: Buffer): string {
  return k1FromSeed(rootKeySeed(hsmKey))
}
