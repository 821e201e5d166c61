// Handing a cluster's adopted root API key to the operator, once. The key is the cluster's root:
// whoever holds it may do anything on the cluster, so the coordinator gives it out a single time
// (an operator token asks; the audit log records who, when and which identity, never the key) and
// afterwards answers when it was given, so the operator looks in the file they saved it to rather
// than anyone asking again. The audit entry is written before the key is marked handed over: a
// hand-over that happened is always audited (a failed audit write hands nothing over).
import type { Clock } from '../../shared/clock.js'
import type { Secret } from '../../shared/secrets/secret.js'
import { CoordinatorError, NotFoundError } from '../errors.js'
import type { RootKeyControl } from '../ports/root-key-control.js'
import type { RolloutStore } from '../store/rollout-store.js'
import { rootKeyView, type RootKeyStore, type RootKeyView } from '../store/root-key-store.js'

/** Options of {@link RootKeyHandOver}. */
export interface RootKeyHandOverOptions {
  store: RootKeyStore
  audit: Pick<RolloutStore, 'appendAudit'>
  clock: Clock
  /** The configured clusters' names. */
  clusters: readonly string[]
}

/** The RootKeyControl over the root key store. */
export class RootKeyHandOver implements RootKeyControl {
  readonly #o: RootKeyHandOverOptions

  constructor (opts: RootKeyHandOverOptions) {
    this.#o = opts
  }

  async view (cluster: string): Promise<RootKeyView | undefined> {
    const k = await this.#o.store.get(cluster)
    return k === undefined ? undefined : rootKeyView(k)
  }

  async handOver (cluster: string, actor: string): Promise<{ identity: string, apiKey: Secret }> {
    if (!this.#o.clusters.includes(cluster)) throw new NotFoundError(`no cluster ${cluster}; known: ${this.#o.clusters.join(', ') || 'none'}`)
    const before = await this.#o.store.get(cluster)
    if (before === undefined) throw none(cluster)
    if (before.handedOverAt !== undefined) throw handedOver(cluster, before.identity, before.handedOverAt)
    const at = this.#o.clock.now()
    await this.#o.audit.appendAudit({ at, actor, action: 'cluster.root-key.hand-over', target: cluster, detail: { identity: before.identity, adoptedAt: before.adoptedAt } })
    const h = await this.#o.store.handOver(cluster, at)
    if (h.handedOver) return { identity: h.key.identity, apiKey: h.key.apiKey }
    // Another request got it (or it was dropped) between the read and the hand-over.
    if (h.reason === 'none') throw none(cluster)
    throw handedOver(cluster, h.identity, h.handedOverAt)
  }
}

function none (cluster: string): CoordinatorError {
  return new CoordinatorError('CRD_ROOT_KEY_NONE', `cluster ${cluster}'s root API key has not changed: the coordinator adopted none, so its root key is the one in its configured minkms.adminKeyFile`)
}

function handedOver (cluster: string, identity: string, at: number): CoordinatorError {
  return new CoordinatorError('CRD_ROOT_KEY_HANDED_OVER', `cluster ${cluster}'s root API key (identity ${identity}) was handed over at ${new Date(at).toISOString()}; it is handed over once: look in the file it was saved to then`)
}
