// An in-memory MinkmsApi for unit tests of code that provisions or uses a Key Manager: enclaves,
// identities and keys as minkms keeps them, minkms's own errors for missing and duplicate objects
// (a duplicate identity is the plain 409 minkms sends), a caller that is root or not (a non-root
// caller is refused with minkms's 403), scripted failures per method, and every call recorded.
// Encryption is a stand-in (not cryptography): enough to prove a round trip went through.
import type {
  ClusterStatus, EncryptResult, EnclaveStatus, GenerateKeyResult, IdentityStatus, KeyStatus, ListPage, MinkmsApi,
  Privilege, VersionInfo
} from './api.js'
import {
  EnclaveExistsError, EnclaveNotFoundError, IdentityNotFoundError, InvalidCiphertextError, KeyExistsError, KeyNotFoundError,
  MinkmsRequestError, PermissionDeniedError
} from './errors.js'

/** A method of the API, for scripts and the call log. */
export type FakeMinkmsMethod = keyof MinkmsApi

interface FakeIdentity { privilege: Privilege, isServiceAccount: boolean }

/** MinkmsApi in memory. `root: false` makes every call a 403, as for an unknown API key. */
export class FakeMinkmsApi implements MinkmsApi {
  /** Every call, in order, with its first argument. */
  readonly calls: Array<{ method: FakeMinkmsMethod, arg?: string }> = []
  /** Whether the caller is root (SysAdmin); false: every call is refused with 403. */
  root = true
  readonly #enclaves = new Map<string, { identities: Map<string, FakeIdentity>, keys: Map<string, number> }>()
  readonly #failures = new Map<FakeMinkmsMethod, unknown[]>()

  /** The next call of `method` rejects with `err` (scripts of one method are used in order). */
  failNext (method: FakeMinkmsMethod, err: unknown): this {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), err])
    return this
  }

  /** Adds objects as if made earlier. */
  seed (enclave: string, opts: { identities?: Record<string, Privilege | { privilege: Privilege, isServiceAccount: boolean }>, keys?: string[] } = {}): this {
    const e = this.#enclaves.get(enclave) ?? { identities: new Map(), keys: new Map() }
    for (const [id, p] of Object.entries(opts.identities ?? {})) e.identities.set(id, typeof p === 'string' ? { privilege: p, isServiceAccount: false } : p)
    for (const k of opts.keys ?? []) e.keys.set(k, 1)
    this.#enclaves.set(enclave, e)
    return this
  }

  /** Names of the writes made, for "nothing changed" assertions. */
  writes (): string[] {
    const write = new Set<FakeMinkmsMethod>(['createEnclave', 'createIdentity', 'createKey', 'addNode', 'addHsm', 'removeHsm'])
    return this.calls.filter((c) => write.has(c.method)).map((c) => `${c.method} ${c.arg ?? ''}`.trim())
  }

  async version (): Promise<VersionInfo> {
    this.#enter('version')
    return { version: 'fake', commit: '', apiVersion: 'v1', host: 'fake:7373', fips140: false }
  }

  async live (): Promise<boolean> { this.#enter('live'); return true }
  async ready (): Promise<boolean> { this.#enter('ready'); return true }

  async createEnclave (name: string): Promise<void> {
    this.#enter('createEnclave', name)
    if (this.#enclaves.has(name)) throw new EnclaveExistsError()
    this.#enclaves.set(name, { identities: new Map(), keys: new Map() })
  }

  async enclaveStatus (name: string): Promise<EnclaveStatus> {
    this.#enter('enclaveStatus', name)
    this.#enclave(name)
    return { name, createdBy: 'fake' }
  }

  async listEnclaves (): Promise<ListPage<EnclaveStatus>> {
    this.#enter('listEnclaves')
    return { items: [...this.#enclaves.keys()].map((name) => ({ name, createdBy: 'fake' })), continueAt: '' }
  }

  async createIdentity (enclave: string, req: { identity: string, privilege: Privilege, isServiceAccount?: boolean }): Promise<void> {
    this.#enter('createIdentity', req.identity)
    const e = this.#enclave(enclave)
    if (e.identities.has(req.identity)) throw new MinkmsRequestError(409, 'identity already exists')
    e.identities.set(req.identity, { privilege: req.privilege, isServiceAccount: req.isServiceAccount ?? false })
  }

  async identityStatus (enclave: string, identity: string): Promise<IdentityStatus> {
    this.#enter('identityStatus', identity)
    const rec = this.#enclave(enclave).identities.get(identity)
    if (rec === undefined) throw new IdentityNotFoundError()
    return { identity, ...rec, policy: '', createdBy: 'fake', serviceAccounts: [], tags: {} }
  }

  async listIdentities (enclave: string): Promise<ListPage<IdentityStatus>> {
    this.#enter('listIdentities', enclave)
    const items = [...this.#enclave(enclave).identities].map(([identity, rec]) => ({ identity, ...rec, policy: '', createdBy: 'fake', serviceAccounts: [], tags: {} }))
    return { items, continueAt: '' }
  }

  async createKey (enclave: string, name: string): Promise<void> {
    this.#enter('createKey', name)
    const e = this.#enclave(enclave)
    if (e.keys.has(name)) throw new KeyExistsError()
    e.keys.set(name, 1)
  }

  async keyStatus (enclave: string, name: string): Promise<KeyStatus> {
    this.#enter('keyStatus', name)
    const version = this.#key(enclave, name)
    return { name, version, type: 'AES256', createdBy: 'fake' }
  }

  async listKeys (enclave: string): Promise<ListPage<KeyStatus>> {
    this.#enter('listKeys', enclave)
    return { items: [...this.#enclave(enclave).keys].map(([name, version]) => ({ name, version, type: 'AES256' as const, createdBy: 'fake' })), continueAt: '' }
  }

  async encrypt (enclave: string, name: string, plaintext: Uint8Array): Promise<EncryptResult> {
    this.#enter('encrypt', name)
    const version = this.#key(enclave, name)
    return { version, ciphertext: Uint8Array.from(plaintext).reverse() }
  }

  async decrypt (enclave: string, name: string, ciphertext: Uint8Array, opts: { version: number }): Promise<Uint8Array> {
    this.#enter('decrypt', name)
    if (this.#key(enclave, name) !== opts.version) throw new InvalidCiphertextError()
    return Uint8Array.from(ciphertext).reverse()
  }

  async generateKey (enclave: string, name: string): Promise<GenerateKeyResult> {
    this.#enter('generateKey', name)
    const version = this.#key(enclave, name)
    const plaintext = new Uint8Array(32).fill(7)
    return { version, plaintext, ciphertext: Uint8Array.from(plaintext).reverse() }
  }

  async clusterStatus (): Promise<ClusterStatus> { this.#enter('clusterStatus'); return { nodesUp: {}, nodesDown: {} } }
  async addNode (host: string): Promise<void> { this.#enter('addNode', host) }
  async addHsm (name: string): Promise<void> { this.#enter('addHsm', name) }
  async removeHsm (name: string): Promise<void> { this.#enter('removeHsm', name) }

  /** Records the call, applies a scripted failure, then the root check. */
  #enter (method: FakeMinkmsMethod, arg?: string): void {
    this.calls.push({ method, ...(arg === undefined ? {} : { arg }) })
    const scripted = this.#failures.get(method)
    if (scripted !== undefined && scripted.length > 0) throw scripted.shift()
    if (!this.root && method !== 'version' && method !== 'live' && method !== 'ready') throw new PermissionDeniedError()
  }

  #enclave (name: string): { identities: Map<string, FakeIdentity>, keys: Map<string, number> } {
    const e = this.#enclaves.get(name)
    if (e === undefined) throw new EnclaveNotFoundError()
    return e
  }

  #key (enclave: string, name: string): number {
    const version = this.#enclave(enclave).keys.get(name)
    if (version === undefined) throw new KeyNotFoundError()
    return version
  }
}
