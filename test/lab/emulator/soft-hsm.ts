// The software HSM: the REK is sealed with AES-256-GCM under the 32-byte MINIO_KMS_HSM_KEY.
import { open, seal } from './aead.js'
import { SOFT_HSM_NAME, type Hsm, type SealedRek } from './hsm.js'
import { rootKeySeed } from './root-key.js'

const AD = `minkms-emulator rek v1|${SOFT_HSM_NAME}`

/** The `hsm:minio:soft` HSM for one key. */
export class SoftHsm implements Hsm {
  readonly name = SOFT_HSM_NAME
  readonly #key: Buffer

  constructor (key: Buffer) {
    if (key.length !== 32) throw new RangeError('the soft HSM key has 32 bytes')
    this.#key = Buffer.from(key)
  }

  async seal (rek: Buffer): Promise<SealedRek> {
    return { hsm: this.name, type: 'aes256-gcm', createdAt: new Date().toISOString(), ciphertext: seal(this.#key, rek, AD).toString('base64') }
  }

  async unseal (entry: SealedRek): Promise<Buffer> {
    if (entry.type !== 'aes256-gcm') throw new Error(`entry of type '${entry.type}' was not sealed by a soft HSM`)
    try {
      return open(this.#key, Buffer.from(entry.ciphertext, 'base64'), AD)
    } catch {
      throw new Error('wrong HSM key: the sealed root encryption key does not authenticate')
    }
  }

  /** The seed `minkms identity hsm:aes256:…` prints the key of (root-key.ts). */
  rootKeySeed (): Buffer {
    return rootKeySeed(this.#key)
  }
}
