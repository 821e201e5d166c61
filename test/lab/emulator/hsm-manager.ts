// A node's HSMs at run time: the configured ones and the sealed REK entries on disk, with the
// local half of CLUSTER:ADDHSM / CLUSTER:REMOVEHSM. The cluster-wide
// half (check every node, then apply on every node) is in cluster.ts.
import type { Hsm } from './hsm.js'
import { describeError } from './fatal-error.js'
import { badGateway, conflict, badRequest, KmsHttpError } from './kms-error.js'
import type { EmulatorLog } from './log.js'
import type { RekStore } from './rek-store.js'
import { Serial } from './serial.js'

export class HsmManager {
  readonly #store: RekStore
  readonly #configured: readonly Hsm[]
  readonly #rek: Buffer
  readonly #log: EmulatorLog
  readonly #serial = new Serial()

  constructor (store: RekStore, configured: readonly Hsm[], rek: Buffer, log: EmulatorLog) {
    this.#store = store
    this.#configured = configured
    this.#rek = rek
    this.#log = log
  }

  /** Names of the configured HSMs, in configuration order (soft, Vault, external). */
  configuredNames (): string[] {
    return this.#configured.map((h) => h.name)
  }

  /** Names of the HSMs with a sealed entry on disk, sorted. */
  async entryNames (): Promise<string[]> {
    return await this.#store.names()
  }

  /**
   * ADDHSM on this node: the HSM must be configured here; an existing entry is refused unless
   * `overwrite` (which re-seals it). With `dryRun` only the checks run.
   */
  async add (name: string, overwrite: boolean, dryRun: boolean): Promise<void> {
    await this.#serial.run(async () => {
      const hsm = this.#configured.find((h) => h.name === name)
      if (hsm === undefined) throw badRequest(`HSM '${name}' is not configured on this node`)
      const names = await this.#store.names()
      if (names.includes(name) && !overwrite) {
        throw conflict(`HSM '${name}' already holds a sealed root encryption key (set Overwrite to re-seal)`)
      }
      if (dryRun) return
      let entry
      try {
        entry = await hsm.seal(this.#rek)
      } catch (err) {
        throw badGateway(`failed to seal the root encryption key with HSM '${name}': ${describeError(err)}`)
      }
      await this.#store.put(entry)
      this.#log.info(`${overwrite ? 'Re-sealed' : 'Sealed'} root encryption key with HSM ${name}`)
    })
  }

  /**
   * REMOVEHSM on this node: deletes the entry of `name`. Refused when no configured HSM with an
   * entry would remain, since the node could then never unseal again.
   */
  async remove (name: string, dryRun: boolean): Promise<void> {
    await this.#serial.run(async () => {
      const names = await this.#store.names()
      if (!names.includes(name)) throw new KmsHttpError(404, `HSM '${name}' holds no sealed root encryption key`)
      const configured = new Set(this.configuredNames())
      const usable = names.filter((n) => n !== name && configured.has(n))
      if (usable.length === 0) {
        throw conflict(`cannot remove HSM '${name}': no other configured HSM holds a sealed root encryption key`)
      }
      if (dryRun) return
      await this.#store.remove(name)
      this.#log.info(`Removed the sealed root encryption key of HSM ${name}`)
    })
  }
}
