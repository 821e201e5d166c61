// Where the cluster gate keeps each cluster's probe API key: the key of the identity it
// provisions on the cluster and sends client round trips with. The key is made here (only its
// `h1:` identity ever goes to minkms), so it must outlive a coordinator restart, or every restart
// would provision a new identity. It is a secret: stored sealed, never in clear.
//
// The sealing is behind a two-method interface so this file does not know the key handling;
// sealedBoxSealer fits the coordinator's sealed box (coordinator/store/coordinator-sealing.ts,
// AES-256-GCM with `coordinator.key`) to it.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite } from '../../shared/fs/atomic-write.js'
import { CoordinatorError } from '../errors.js'

/** Seals and opens a secret as text (base64 of an authenticated ciphertext). */
export interface Sealer {
  seal: (plain: string) => string
  /** Throws when the text was not sealed by this sealer's key or was changed. */
  open: (sealed: string) => string
}

/** The probe API keys, one per cluster. */
export interface ProbeKeyStore {
  /** The probe API key of `cluster`, or undefined when none was made yet. */
  get: (cluster: string) => Promise<string | undefined>
  /** Stores (or replaces) the probe API key of `cluster`, durably, before it resolves. */
  put: (cluster: string, apiKey: string) => Promise<void>
}

/** A SealedBox-like box (AES-256-GCM over bytes), as the agent's and the coordinator's state use. */
export interface BytesBox {
  seal: (plain: string | Uint8Array) => Buffer
  unseal: (sealed: Uint8Array, what?: string) => Buffer
}

/** A Sealer over a bytes box: base64 text of the sealed bytes. */
export function sealedBoxSealer (box: BytesBox): Sealer {
  return {
    seal: (plain) => box.seal(plain).toString('base64'),
    open: (sealed) => box.unseal(Buffer.from(sealed, 'base64'), 'the probe key').toString('utf8')
  }
}

/** File name of the store in the state directory. */
export const PROBE_KEYS_FILE = 'probe-keys.json'

interface FileShape { version: 1, keys: Record<string, string> }

/**
 * The store as one JSON file in the state directory (`probe-keys.json`, 0600), every value
 * sealed; replaced atomically on each put, so a crash leaves the old file or the new one.
 */
export class FileProbeKeyStore implements ProbeKeyStore {
  readonly path: string
  readonly #sealer: Sealer

  constructor (stateDir: string, sealer: Sealer) {
    this.path = join(stateDir, PROBE_KEYS_FILE)
    this.#sealer = sealer
  }

  async get (cluster: string): Promise<string | undefined> {
    const sealed = (await this.#read()).keys[cluster]
    if (sealed === undefined) return undefined
    try {
      return this.#sealer.open(sealed)
    } catch (err) {
      throw new CoordinatorError('CRD_STATE_SEALED', `the probe key of cluster ${cluster} in ${this.path} cannot be opened (corrupt, or sealed with another key)`, { cause: err })
    }
  }

  async put (cluster: string, apiKey: string): Promise<void> {
    const data = await this.#read()
    data.keys[cluster] = this.#sealer.seal(apiKey)
    await atomicWrite(this.path, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 })
  }

  async #read (): Promise<FileShape> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, keys: {} }
      throw err
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = undefined
    }
    const v = value as Partial<FileShape> | undefined
    if (v?.version !== 1 || typeof v.keys !== 'object' || v.keys === null || Object.values(v.keys).some((s) => typeof s !== 'string')) {
      throw new CoordinatorError('CRD_STATE_SEALED', `${this.path} is not a probe key store (version 1)`)
    }
    return { version: 1, keys: { ...v.keys } }
  }
}

/** The store in memory (tests, and a coordinator without a state dir). */
export class MemoryProbeKeyStore implements ProbeKeyStore {
  readonly #keys = new Map<string, string>()
  async get (cluster: string): Promise<string | undefined> { return this.#keys.get(cluster) }
  async put (cluster: string, apiKey: string): Promise<void> { this.#keys.set(cluster, apiKey) }
}
