// Encrypts what a daemon keeps in its state directory that may hold secrets (the agent's backups
// of the env file and accepted changes, the coordinator's stored changes), so no secret sits there
// in clear. The key is a random 32-byte file beside the state (0600, created exclusively): the
// same protection as the files it manages, but nothing in the state dir can be grepped or copied
// out by accident (support bundles, backups of /var/lib). Both daemons seal the same way; each
// names its key file, the label its derived keys are bound to, and its own coded error.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'

const VERSION = 1
const IV = 12
const TAG = 16

/** Which daemon's box: its key file, derive() label and error. */
export interface SealingKind {
  /** File name of the key in the state dir (`agent.key`, `coordinator.key`). */
  readonly keyFile: string
  /** Bound into every derived key, so the daemons' derived keys never coincide (`keyroll-agent`). */
  readonly label: string
  /** The daemon's coded error for a corrupt key file or sealed content (`what` names it, never its value). */
  readonly error: (what: string) => Error
}

/** AES-256-GCM with a daemon's key. Sealed form: version byte, 12-byte IV, 16-byte tag, ciphertext. */
export class SealedBox {
  readonly #key: Buffer
  readonly #kind: SealingKind
  protected constructor (key: Buffer, kind: SealingKind) {
    this.#key = key
    this.#kind = kind
  }

  /** A box with an explicit key (tests). */
  static withKey (key: Buffer, kind: SealingKind): SealedBox {
    return new SealedBox(checkedKey(key), kind)
  }

  /** Loads `<dir>/<kind.keyFile>`, creating it (0600, exclusive create) on first use. */
  static async open (dir: string, kind: SealingKind): Promise<SealedBox> {
    return new SealedBox(await loadKey(dir, kind), kind)
  }

  seal (plain: string | Uint8Array): Buffer {
    const iv = randomBytes(IV)
    const c = createCipheriv('aes-256-gcm', this.#key, iv)
    const body = Buffer.concat([c.update(plain), c.final()])
    return Buffer.concat([Buffer.from([VERSION]), iv, c.getAuthTag(), body])
  }

  unseal (sealed: Uint8Array, what = 'content'): Buffer {
    const b = Buffer.from(sealed)
    if (b.length < 1 + IV + TAG || b[0] !== VERSION) throw this.#kind.error(what)
    try {
      const d = createDecipheriv('aes-256-gcm', this.#key, b.subarray(1, 1 + IV))
      d.setAuthTag(b.subarray(1 + IV, 1 + IV + TAG))
      return Buffer.concat([d.update(b.subarray(1 + IV + TAG)), d.final()])
    } catch {
      throw this.#kind.error(what)
    }
  }

  /** Seals UTF-8 text into base64 text (for a text column). */
  sealText (plain: string): string {
    return this.seal(plain).toString('base64')
  }

  /** The text {@link sealText} sealed. */
  unsealText (sealed: string, what = 'content'): string {
    return this.unseal(Buffer.from(sealed, 'base64'), what).toString('utf8')
  }

  /** A key derived for another purpose (e.g. diff fingerprints), so the box key is never reused. */
  derive (purpose: string): Buffer {
    return createHmac('sha256', this.#key).update(`${this.#kind.label}:${purpose}`).digest()
  }
}

/** `key` as the box's own copy, if it is 32 bytes. */
export function checkedKey (key: Buffer): Buffer {
  if (key.length !== 32) throw new Error('a sealing key must be 32 bytes')
  return Buffer.from(key)
}

/** Reads `<dir>/<kind.keyFile>`, creating it (0600, exclusive create, synced) on first use. */
export async function loadKey (dir: string, kind: SealingKind): Promise<Buffer> {
  const path = join(dir, kind.keyFile)
  try {
    const fh = await open(path, 'wx', 0o600)
    const key = randomBytes(32)
    try { await fh.writeFile(key); await fh.sync() } finally { await fh.close() }
    return key
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const key = await readFile(path)
  if (key.length !== 32) throw kind.error(path)
  return key
}
