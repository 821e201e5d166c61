// Where the coordinator keeps a cluster's adopted root API key: the key minkms logged at start
// once the cluster's root key changed (coordinator/gate/root-key-adoption.ts). It is the key of
// root itself, so it is kept only sealed with coordinator.key (the box that seals rollout changes
// and the HSM migration's secrets), held in memory as a Secret, and handed to the operator once:
// `handOver` marks it in the same transaction that reads it, so two requests cannot both get it.
// One key per cluster: adopting another replaces it; a cluster back on its configured key drops it.
import type { Secret } from '../../shared/secrets/secret.js'

/** A cluster's adopted root key. */
export interface AdoptedRootKey {
  cluster: string
  /** The key's `h1:` identity (not secret). */
  identity: string
  apiKey: Secret
  /** When it was adopted, ms since the epoch. */
  adoptedAt: number
  /** When it was handed to the operator (once), ms since the epoch. */
  handedOverAt?: number
}

/** What read views show of it: never the key. */
export interface RootKeyView {
  identity: string
  adoptedAt: number
  handedOverAt?: number
}

/** The result of a hand-over: the key the first time, else when it was handed over. */
export type HandOver =
  | { handedOver: true, key: AdoptedRootKey }
  | { handedOver: false, reason: 'none' }
  | { handedOver: false, reason: 'already', identity: string, handedOverAt: number }

/** The adopted root keys, one per cluster. */
export interface RootKeyStore {
  /** The cluster's adopted key, or undefined (the coordinator then uses the configured admin key). */
  get (cluster: string): Promise<AdoptedRootKey | undefined>
  /**
   * Stores (or replaces) the cluster's adopted key, durably, before it resolves: another key is
   * not handed over yet; the same key again keeps its adoption and hand-over times.
   */
  adopt (cluster: string, identity: string, apiKey: Secret, at: number): Promise<void>
  /** Forgets the cluster's adopted key (it is back on its configured one). */
  drop (cluster: string): Promise<void>
  /** The key, marking it handed over, when it was not yet; otherwise why not. Atomic. */
  handOver (cluster: string, at: number): Promise<HandOver>
  close (): Promise<void>
}

/** The view of a stored key. */
export function rootKeyView (k: AdoptedRootKey): RootKeyView {
  return { identity: k.identity, adoptedAt: k.adoptedAt, ...(k.handedOverAt === undefined ? {} : { handedOverAt: k.handedOverAt }) }
}

/** The store in memory (unit tests). */
export class MemoryRootKeyStore implements RootKeyStore {
  readonly #keys = new Map<string, AdoptedRootKey>()

  async get (cluster: string): Promise<AdoptedRootKey | undefined> {
    const k = this.#keys.get(cluster)
    return k === undefined ? undefined : { ...k }
  }

  async adopt (cluster: string, identity: string, apiKey: Secret, at: number): Promise<void> {
    const before = this.#keys.get(cluster)
    if (before?.identity === identity) return
    this.#keys.set(cluster, { cluster, identity, apiKey, adoptedAt: at })
  }

  async drop (cluster: string): Promise<void> {
    this.#keys.delete(cluster)
  }

  async handOver (cluster: string, at: number): Promise<HandOver> {
    const k = this.#keys.get(cluster)
    if (k === undefined) return { handedOver: false, reason: 'none' }
    if (k.handedOverAt !== undefined) return { handedOver: false, reason: 'already', identity: k.identity, handedOverAt: k.handedOverAt }
    k.handedOverAt = at
    return { handedOver: true, key: { ...k } }
  }

  async close (): Promise<void> {}
}
