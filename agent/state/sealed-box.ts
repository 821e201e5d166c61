// Encrypts what the agent keeps in its state directory that may hold secrets (backups of the env
// file hold MINIO_KMS_HSM_KEY; the accepted change holds API keys), so no secret sits there in
// clear. The key is a random 32-byte file beside the state (0600, root-owned): the same
// protection as the managed files themselves, but nothing in the state dir can be grepped or
// copied out by accident (support bundles, backups of /var/lib).
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SealedBoxError } from '../errors.js'

const VERSION = 1
const IV = 12
const TAG = 16

/** AES-256-GCM with the agent's key. */
export class SealedBox {
  readonly #key: Buffer
  private constructor (key: Buffer) { this.#key = key }

  /** A box with an explicit key (tests). */
  static withKey (key: Buffer): SealedBox {
    if (key.length !== 32) throw new Error('the agent key must be 32 bytes')
    return new SealedBox(Buffer.from(key))
  }

  /** Loads `<dir>/agent.key`, creating it (0600, exclusive create) on first use. */
  static async open (dir: string): Promise<SealedBox> {
    const path = join(dir, 'agent.key')
    try {
      const fh = await open(path, 'wx', 0o600)
      const key = randomBytes(32)
      try { await fh.writeFile(key); await fh.sync() } finally { await fh.close() }
      return new SealedBox(key)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const key = await readFile(path)
    if (key.length !== 32) throw new SealedBoxError(path)
    return new SealedBox(key)
  }

  seal (plain: string | Uint8Array): Buffer {
    const iv = randomBytes(IV)
    const c = createCipheriv('aes-256-gcm', this.#key, iv)
    const body = Buffer.concat([c.update(plain), c.final()])
    return Buffer.concat([Buffer.from([VERSION]), iv, c.getAuthTag(), body])
  }

  unseal (sealed: Uint8Array, what = 'content'): Buffer {
    const b = Buffer.from(sealed)
    if (b.length < 1 + IV + TAG || b[0] !== VERSION) throw new SealedBoxError(what)
    try {
      const d = createDecipheriv('aes-256-gcm', this.#key, b.subarray(1, 1 + IV))
      d.setAuthTag(b.subarray(1 + IV, 1 + IV + TAG))
      return Buffer.concat([d.update(b.subarray(1 + IV + TAG)), d.final()])
    } catch {
      throw new SealedBoxError(what)
    }
  }

  /** A key derived for another purpose (e.g. diff fingerprints), so the box key is never reused. */
  derive (purpose: string): Buffer {
    return createHmac('sha256', this.#key).update(`keyroll-agent:${purpose}`).digest()
  }
}
