// The `external-hsm-down` fault: the external Key Manager HSM as a node sees it when the external
// Key Manager cannot be reached from it to unseal (a firewall, a route, the external refusing that
// node). Unsealing fails the way an unreachable external fails, naming every server; sealing still
// goes through, so the node gets its sealed copy while it still has its local HSM, and only a start
// on the external HSM alone fails: the canary of an HSM migration's phase B that must be rolled back.
import type { Hsm, SealedRek } from './hsm.js'

/** The fault's name, as in the faults directory and its reason. */
export const EXTERNAL_HSM_DOWN = 'external-hsm-down'

/** `inner` (the external Key Manager HSM) with its unseal failing as unreachable from this node. */
export class ExternalHsmDown implements Hsm {
  readonly name: string
  readonly #inner: Hsm
  readonly #servers: readonly string[]

  constructor (inner: Hsm, servers: readonly string[]) {
    this.name = inner.name
    this.#inner = inner
    this.#servers = [...servers]
  }

  async seal (rek: Buffer): Promise<SealedRek> {
    return await this.#inner.seal(rek)
  }

  rootKeySeed (): Buffer {
    return this.#inner.rootKeySeed()
  }

  // The text of a real failover that reached no server (external-kms-hsm.ts), so what an operator
  // greps for is the same; the reason says it was injected.
  async unseal (_entry: SealedRek): Promise<Buffer> {
    const why = this.#servers.map((s) => `${s}: unreachable from this node (fault injection: ${EXTERNAL_HSM_DOWN})`)
    throw new Error(`no external Key Manager server reachable: ${why.join('; ')}`)
  }
}
