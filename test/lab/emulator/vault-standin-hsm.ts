// The `hsm:hashicorp:vault` HSM (`hsm.hashicorp.vault` in the config) as an offline stand-in:
// there is no Vault in the lab, so instead of transit encrypt/decrypt calls the REK is sealed with
// AES-256-GCM under a key derived from the block itself (server, transit engine and key, auth
// method and credentials). What keyroll depends on holds: the node unseals as long as the block is
// unchanged, and a changed block fails to unseal like a Vault refusing the node would. The
// credentials only feed the derivation; messages name the server, engine and key, never them.
import { hkdfSync } from 'node:crypto'
import { open, seal } from './aead.js'
import { VAULT_HSM_NAME, type Hsm, type SealedRek } from './hsm.js'
import { rootKeySeed } from './root-key.js'
import type { VaultAuth, VaultHsmConfig } from './vault-config.js'

/** Binds a sealed REK to this HSM, so no other HSM's entry can be replayed here. */
const AD = `minkms-emulator rek v1|${VAULT_HSM_NAME}`
const SALT = 'minkms-emulator vault stand-in v1'

function credentials (auth: VaultAuth): string[] {
  return auth.method === 'approle' ? [auth.method, auth.id, auth.secret] : [auth.method, auth.role, auth.jwt]
}

/** The sealing key of one block: HKDF-SHA256 over every field (length-safe through JSON). */
function sealingKey (c: VaultHsmConfig): Buffer {
  const ikm = JSON.stringify([c.server, c.engine, c.key, ...credentials(c.auth)])
  return Buffer.from(hkdfSync('sha256', ikm, SALT, VAULT_HSM_NAME, 32))
}

function where (server: string, engine: string, key: string): string {
  return `Vault ${server} (transit engine '${engine}', key '${key}')`
}

export class VaultStandInHsm implements Hsm {
  readonly name = VAULT_HSM_NAME
  readonly #server: string
  readonly #engine: string
  readonly #transitKey: string
  readonly #key: Buffer

  constructor (config: VaultHsmConfig) {
    this.#server = config.server
    this.#engine = config.engine
    this.#transitKey = config.key
    this.#key = sealingKey(config)
  }

  async seal (rek: Buffer): Promise<SealedRek> {
    return {
      hsm: this.name,
      type: 'vault-transit',
      createdAt: new Date().toISOString(),
      server: this.#server,
      engine: this.#engine,
      key: this.#transitKey,
      ciphertext: seal(this.#key, rek, AD).toString('base64')
    }
  }

  async unseal (entry: SealedRek): Promise<Buffer> {
    if (entry.type !== 'vault-transit') throw new Error(`entry of type '${entry.type}' was not sealed by a Vault HSM`)
    const configured = where(this.#server, this.#engine, this.#transitKey)
    let rek: Buffer
    try {
      rek = open(this.#key, Buffer.from(entry.ciphertext, 'base64'), AD)
    } catch {
      const sealedBy = where(entry.server, entry.engine, entry.key)
      const what = sealedBy === configured ? 'same server, engine and key, so the auth credentials differ' : `sealed by ${sealedBy}`
      throw new Error(`${configured}: the sealed root encryption key does not authenticate: ` +
        `the hsm.hashicorp.vault block changed since it was sealed (${what})`)
    }
    if (rek.length !== 32) throw new Error(`${configured}: unsealed a ${rek.length}-byte root encryption key`)
    return rek
  }

  /** Derived from the block's sealing key, like the soft HSM's from its key: the same block, the same root key. */
  rootKeySeed (): Buffer {
    return rootKeySeed(this.#key)
  }
}
