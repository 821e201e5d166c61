// The `hsm:minio:minkms` HSM: another Key Manager keeps the key that seals this node's REK
// (`hsm.minio.minkms` in the config). Seal = KEY:ENCRYPT, unseal = KEY:DECRYPT, each a real call
// over mutual TLS with the configured API key, server certificates checked against `tls.ca`. The
// servers are tried in the configured order; only a network-level failure moves on to the next
// one, since any answer (403 for a wrong auth.key, 404 for a missing key) would be the same there.
import { hkdfSync } from 'node:crypto'
import { createMinkmsClient, type MinkmsClient } from '../../../shared/minkms/client.js'
import { describeCause, isUnreachable } from '../../../shared/minkms/errors.js'
import type { ExternalKmsHsmConfig } from './config.js'
import { EXTERNAL_KMS_HSM_NAME, type Hsm, type SealedRek } from './hsm.js'

/** Associated data bound to every sealed REK. */
const REK_AD = Buffer.from('rek')
/** Salt of the derived root key's seed (emulator choice; changing it changes every derived root key). */
const ROOT_SALT = 'minkms-emulator external root identity v1'

export class ExternalKmsHsm implements Hsm {
  readonly name = EXTERNAL_KMS_HSM_NAME
  readonly #config: ExternalKmsHsmConfig
  readonly #ca: string[] | undefined
  readonly #timeoutMs: number

  constructor (config: ExternalKmsHsmConfig, ca: string[] | undefined, timeoutMs: number) {
    this.#config = config
    this.#ca = ca
    this.#timeoutMs = timeoutMs
  }

  /** Runs `op` against each server in turn until one answers. */
  async #withServer<T> (op: (client: MinkmsClient) => Promise<T>): Promise<T> {
    const failures: string[] = []
    for (const server of this.#config.servers) {
      const client = createMinkmsClient({
        endpoints: [server],
        apiKey: this.#config.apiKey,
        ...(this.#ca !== undefined && { ca: this.#ca }),
        timeoutMs: this.#timeoutMs
      })
      try {
        return await op(client)
      } catch (err) {
        if (!isUnreachable(err)) {
          const why = err instanceof Error ? err.message : String(err)
          throw new Error(`external Key Manager ${server} (enclave '${this.#config.enclave}', key '${this.#config.key}'): ${why}`)
        }
        failures.push(`${server}: ${describeCause(err.cause ?? err)}`)
      } finally {
        await client.close()
      }
    }
    throw new Error(`no external Key Manager server reachable: ${failures.join('; ')}`)
  }

  async seal (rek: Buffer): Promise<SealedRek> {
    const { enclave, key } = this.#config
    const r = await this.#withServer(async (c) => await c.encrypt(enclave, key, rek, { associatedData: REK_AD }))
    return {
      hsm: this.name,
      type: 'minkms',
      createdAt: new Date().toISOString(),
      enclave,
      key,
      version: r.version,
      ciphertext: Buffer.from(r.ciphertext).toString('base64')
    }
  }

  async unseal (entry: SealedRek): Promise<Buffer> {
    if (entry.type !== 'minkms') throw new Error(`entry of type '${entry.type}' was not sealed by an external Key Manager`)
    const { enclave, key } = this.#config
    const ciphertext = Buffer.from(entry.ciphertext, 'base64')
    const plain = await this.#withServer(async (c) => await c.decrypt(enclave, key, ciphertext, { version: entry.version, associatedData: REK_AD }))
    if (plain.length !== 32) throw new Error(`external Key Manager returned a ${plain.length}-byte root encryption key`)
    return Buffer.from(plain)
  }

  /**
   * Emulator choice: HKDF-SHA256 over the enclave, the key and auth.key, what every node of a
   * cluster sealing with this external Key Manager shares (the server list may differ in order
   * per node, so it is left out). No call goes out, so a node derives it even when the external
   * Key Manager is unreachable.
   */
  rootKeySeed (): Buffer {
    const { enclave, key, apiKey } = this.#config
    return Buffer.from(hkdfSync('sha256', JSON.stringify([enclave, key, apiKey]), ROOT_SALT, this.name, 32))
  }
}
