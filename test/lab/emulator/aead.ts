// AEAD sealing used for everything the emulator keeps secret: the REK under the soft HSM key, key
// material and the root API key under the REK, and KEY:ENCRYPT ciphertexts (AES-256-GCM, or
// ChaCha20-Poly1305 for ChaCha20 keys). The associated data binds a blob to its purpose, so a
// blob cannot be moved to another slot.
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto'

/** Supported AEADs; both take a 32-byte key and a 12-byte nonce and give a 16-byte tag. */
export type AeadAlgorithm = 'aes-256-gcm' | 'chacha20-poly1305'

const NONCE = 12
const TAG = 16

function bytes (ad: Uint8Array | string): Buffer {
  return typeof ad === 'string' ? Buffer.from(ad) : Buffer.from(ad)
}

/** `nonce ‖ ciphertext ‖ tag` of `plaintext` under the 32-byte `key`. */
export function seal (key: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array | string,
  algorithm: AeadAlgorithm = 'aes-256-gcm'): Buffer {
  const nonce = randomBytes(NONCE)
  const c = createCipheriv(algorithm as CipherGCMTypes, key, nonce, { authTagLength: TAG })
  c.setAAD(bytes(associatedData))
  const body = Buffer.concat([c.update(plaintext), c.final()])
  return Buffer.concat([nonce, body, c.getAuthTag()])
}

/** Opens a `seal` blob; throws when the key, data or associated data do not match. */
export function open (key: Uint8Array, blob: Uint8Array, associatedData: Uint8Array | string,
  algorithm: AeadAlgorithm = 'aes-256-gcm'): Buffer {
  if (blob.length < NONCE + TAG) throw new Error('ciphertext too short')
  const b = Buffer.from(blob)
  const d = createDecipheriv(algorithm as CipherGCMTypes, key, b.subarray(0, NONCE), { authTagLength: TAG })
  d.setAAD(bytes(associatedData))
  d.setAuthTag(b.subarray(b.length - TAG))
  return Buffer.concat([d.update(b.subarray(NONCE, b.length - TAG)), d.final()])
}
