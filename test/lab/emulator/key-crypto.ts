// KEY:ENCRYPT / KEY:DECRYPT ciphertexts: opaque AEAD blobs under one key version's material,
// bound to the enclave, key name, version and the request's AssociatedData. Any mismatch fails
// authentication, which the server reports as 400 `invalid ciphertext`.
import { open, seal, type AeadAlgorithm } from './aead.js'
import type { KeyVersion } from './key-database.js'

/** First byte of every ciphertext: the emulator's format version. */
const FORMAT = 0x01

function algorithm (k: KeyVersion): AeadAlgorithm {
  return k.type === 'ChaCha20' ? 'chacha20-poly1305' : 'aes-256-gcm'
}

function ad (enclave: string, k: KeyVersion, associatedData: Uint8Array): Buffer {
  const head = Buffer.from(`minkms-emulator ciphertext v1|${JSON.stringify([enclave, k.name, k.version])}|`)
  return Buffer.concat([head, associatedData])
}

/** Encrypts `plaintext` with key version `k` of `enclave`. */
export function encryptWith (enclave: string, k: KeyVersion, plaintext: Uint8Array, associatedData: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(FORMAT), seal(k.material, plaintext, ad(enclave, k, associatedData), algorithm(k))])
}

/** Decrypts, or returns undefined when the ciphertext does not authenticate. */
export function decryptWith (enclave: string, k: KeyVersion, ciphertext: Uint8Array, associatedData: Uint8Array): Buffer | undefined {
  if (ciphertext.length < 1 || ciphertext[0] !== FORMAT) return undefined
  try {
    return open(k.material, ciphertext.subarray(1), ad(enclave, k, associatedData), algorithm(k))
  } catch {
    return undefined
  }
}
