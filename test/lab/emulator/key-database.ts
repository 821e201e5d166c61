// The key database of one node: enclaves, identities and keys, persisted as `db.json` in the data
// directory. Key material is sealed under the REK (AES-256-GCM, bound to enclave/key/version), so
// the file alone reveals names and metadata but no key. Every change is written atomically before
// the call returns; calls are serialised, so concurrent requests cannot lose an update.
// `revision` counts the committed states: replication (cluster.ts) orders the copies of the
// database on the members by it, and a restarted member catches up from a peer with a higher one.
import { randomBytes } from 'node:crypto'
import type { Privilege } from '../../../shared/minkms/api.js'
import { open, seal } from './aead.js'
import { readJsonFile, writeJsonAtomic } from './atomic-file.js'

/** Key types minkms knows (KeyStatusResponse.Type must be exactly one of these). */
export type KeyType = 'AES256' | 'ChaCha20'

export interface IdentityRecord {
  privilege: Privilege
  policy: string
  createdAt: string
  createdBy: string
  isServiceAccount: boolean
  serviceAccounts: string[]
  tags: Record<string, string>
}

export interface KeyVersionRecord {
  /** base64 of the material sealed under the REK. */
  material: string
  createdAt: string
  createdBy: string
}

export interface KeyRecord { type: KeyType, versions: Record<string, KeyVersionRecord> }

export interface EnclaveRecord {
  createdAt: string
  createdBy: string
  identities: Record<string, IdentityRecord>
  keys: Record<string, KeyRecord>
}

/** The content of `db.json` (a file without `revision` predates replication: revision 0). */
export interface DbFile { version: 1, revision?: number, enclaves: Record<string, EnclaveRecord> }

/** A key version with its plaintext material, for crypto operations. */
export interface KeyVersion { name: string, version: number, type: KeyType, material: Buffer, createdAt: string, createdBy: string }

/** Outcome of a change: `ok`, or which object blocked it. */
export type DbResult = 'ok' | 'enclave-missing' | 'enclave-exists' | 'key-missing' | 'key-exists' | 'identity-missing' | 'identity-exists'

/** Associated data binding sealed material to its enclave, key and version. */
export function materialAd (enclave: string, key: string, version: number): string {
  return `minkms-emulator key material v1|${JSON.stringify([enclave, key, version])}`
}

function latestVersion (k: KeyRecord): number {
  return Math.max(0, ...Object.keys(k.versions).map(Number))
}

/** The persistent database. Create with {@link KeyDatabase.open}. */
export class KeyDatabase {
  /** undefined for a staged copy, which lives in memory only. */
  readonly #path: string | undefined
  readonly #rek: Buffer
  #state: DbFile
  #queue: Promise<unknown> = Promise.resolve()

  private constructor (path: string | undefined, rek: Buffer, state: DbFile) {
    this.#path = path
    this.#rek = rek
    this.#state = state
  }

  /** Loads `path` (an empty database when missing). Throws on a corrupt file. */
  static async open (path: string, rek: Buffer): Promise<KeyDatabase> {
    const raw = await readJsonFile(path)
    if (raw === undefined) return new KeyDatabase(path, rek, { version: 1, enclaves: {} })
    const file = raw as Partial<DbFile>
    if (file.version !== 1 || typeof file.enclaves !== 'object' || file.enclaves === null) {
      throw new Error(`${path}: unknown key database format`)
    }
    if (file.revision !== undefined && !(Number.isSafeInteger(file.revision) && file.revision >= 0)) {
      throw new Error(`${path}: invalid revision`)
    }
    return new KeyDatabase(path, rek, file as DbFile)
  }

  /** The revision of the current state (0 for a database that never changed). */
  get revision (): number {
    return this.#state.revision ?? 0
  }

  /** Runs `task` after every change queued before it. */
  async #serially<T> (task: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(task, task)
    this.#queue = p.catch(() => undefined)
    return await p
  }

  /** Persists `next` (unless staged) and makes it current. */
  async #install (next: DbFile): Promise<void> {
    if (this.#path !== undefined) await writeJsonAtomic(this.#path, next)
    this.#state = next
  }

  /** Runs `change` on a copy of the state, persists it with the next revision, then makes it current. Serialised. */
  async #mutate (change: (s: DbFile) => DbResult): Promise<DbResult> {
    return await this.#serially(async () => {
      const next = structuredClone(this.#state)
      const result = change(next)
      if (result !== 'ok') return result
      next.revision = this.revision + 1
      await this.#install(next)
      return 'ok'
    })
  }

  /**
   * An in-memory copy to run a replicated write on: its changes touch neither this database nor
   * the disk until {@link KeyDatabase.install} makes them current (after every member took them).
   */
  staged (): KeyDatabase {
    return new KeyDatabase(undefined, this.#rek, structuredClone(this.#state))
  }

  /** A copy of the current state (material still sealed under this node's REK). */
  snapshot (): DbFile {
    return structuredClone(this.#state)
  }

  /** Makes `state` current as `revision`, persisted atomically (commit of a write, or a replica). */
  async install (state: DbFile, revision: number): Promise<void> {
    await this.#serially(async () => { await this.#install({ ...structuredClone(state), revision }) })
  }

  /** The REK-sealed material of a version, opened (for re-sealing a replica). */
  openMaterial (enclave: string, key: string, version: number, sealed: string): Buffer {
    return open(this.#rek, Buffer.from(sealed, 'base64'), materialAd(enclave, key, version))
  }

  /** `material` sealed under this node's REK for a version, base64 (as db.json keeps it). */
  sealMaterial (enclave: string, key: string, version: number, material: Uint8Array): string {
    return seal(this.#rek, material, materialAd(enclave, key, version)).toString('base64')
  }

  enclave (name: string): EnclaveRecord | undefined {
    return Object.hasOwn(this.#state.enclaves, name) ? this.#state.enclaves[name] : undefined
  }

  /** Enclave names, sorted. */
  enclaveNames (): string[] {
    return Object.keys(this.#state.enclaves).sort()
  }

  async createEnclave (name: string, createdBy: string): Promise<DbResult> {
    return await this.#mutate((s) => {
      if (Object.hasOwn(s.enclaves, name)) return 'enclave-exists'
      s.enclaves[name] = { createdAt: new Date().toISOString(), createdBy, identities: {}, keys: {} }
      return 'ok'
    })
  }

  async deleteEnclave (name: string): Promise<DbResult> {
    return await this.#mutate((s) => {
      if (!Object.hasOwn(s.enclaves, name)) return 'enclave-missing'
      // Records are plain JSON; deleting an own property of the cloned map is safe.
      const { [name]: _gone, ...rest } = s.enclaves
      s.enclaves = rest
      return 'ok'
    })
  }

  identity (enclave: string, id: string): IdentityRecord | undefined {
    const e = this.enclave(enclave)
    return e !== undefined && Object.hasOwn(e.identities, id) ? e.identities[id] : undefined
  }

  /** True when `id` is a SysAdmin identity in any enclave. */
  isSysAdmin (id: string): boolean {
    return Object.values(this.#state.enclaves).some((e) => Object.hasOwn(e.identities, id) && e.identities[id]?.privilege === 'SysAdmin')
  }

  async createIdentity (enclave: string, id: string, rec: Omit<IdentityRecord, 'createdAt' | 'serviceAccounts' | 'policy'>): Promise<DbResult> {
    return await this.#mutate((s) => {
      const e = s.enclaves[enclave]
      if (e === undefined || !Object.hasOwn(s.enclaves, enclave)) return 'enclave-missing'
      if (Object.hasOwn(e.identities, id)) return 'identity-exists'
      e.identities[id] = { ...rec, policy: '', serviceAccounts: [], createdAt: new Date().toISOString() }
      return 'ok'
    })
  }

  async deleteIdentity (enclave: string, id: string): Promise<DbResult> {
    return await this.#mutate((s) => {
      const e = s.enclaves[enclave]
      if (e === undefined || !Object.hasOwn(s.enclaves, enclave)) return 'enclave-missing'
      if (!Object.hasOwn(e.identities, id)) return 'identity-missing'
      const { [id]: _gone, ...rest } = e.identities
      e.identities = rest
      return 'ok'
    })
  }

  key (enclave: string, name: string): KeyRecord | undefined {
    const e = this.enclave(enclave)
    return e !== undefined && Object.hasOwn(e.keys, name) ? e.keys[name] : undefined
  }

  /** Creates a key, or (addVersion) adds a version to an existing one, with fresh material. */
  async createKey (enclave: string, name: string, type: KeyType, addVersion: boolean, createdBy: string): Promise<DbResult> {
    return await this.#mutate((s) => {
      const e = s.enclaves[enclave]
      if (e === undefined || !Object.hasOwn(s.enclaves, enclave)) return 'enclave-missing'
      const existing = Object.hasOwn(e.keys, name) ? e.keys[name] : undefined
      if (addVersion && existing === undefined) return 'key-missing'
      if (!addVersion && existing !== undefined) return 'key-exists'
      const rec: KeyRecord = existing ?? { type, versions: {} }
      const version = latestVersion(rec) + 1
      const material = seal(this.#rek, randomBytes(32), materialAd(enclave, name, version))
      rec.versions[String(version)] = { material: material.toString('base64'), createdAt: new Date().toISOString(), createdBy }
      e.keys[name] = rec
      return 'ok'
    })
  }

  /** Deletes one version (version > 0) or the whole key (version 0 or allVersions). */
  async deleteKey (enclave: string, name: string, version: number, allVersions: boolean): Promise<DbResult> {
    return await this.#mutate((s) => {
      const e = s.enclaves[enclave]
      if (e === undefined || !Object.hasOwn(s.enclaves, enclave)) return 'enclave-missing'
      const k = Object.hasOwn(e.keys, name) ? e.keys[name] : undefined
      if (k === undefined) return 'key-missing'
      if (allVersions || version === 0 || Object.keys(k.versions).length === 1) {
        if (version !== 0 && !allVersions && !Object.hasOwn(k.versions, String(version))) return 'key-missing'
        const { [name]: _gone, ...rest } = e.keys
        e.keys = rest
        return 'ok'
      }
      if (!Object.hasOwn(k.versions, String(version))) return 'key-missing'
      const { [String(version)]: _v, ...others } = k.versions
      k.versions = others
      return 'ok'
    })
  }

  /** Key names of an enclave, sorted (undefined when the enclave does not exist). */
  keyNames (enclave: string): string[] | undefined {
    const e = this.enclave(enclave)
    return e === undefined ? undefined : Object.keys(e.keys).sort()
  }

  /** Identities of an enclave, sorted (undefined when the enclave does not exist). */
  identityNames (enclave: string): string[] | undefined {
    const e = this.enclave(enclave)
    return e === undefined ? undefined : Object.keys(e.identities).sort()
  }

  /** A key version with its material; version 0 = latest. Undefined when key or version is missing. */
  keyVersion (enclave: string, name: string, version: number): KeyVersion | undefined {
    const k = this.key(enclave, name)
    if (k === undefined) return undefined
    const v = version === 0 ? latestVersion(k) : version
    const rec = Object.hasOwn(k.versions, String(v)) ? k.versions[String(v)] : undefined
    if (rec === undefined) return undefined
    const material = open(this.#rek, Buffer.from(rec.material, 'base64'), materialAd(enclave, name, v))
    return { name, version: v, type: k.type, material, createdAt: rec.createdAt, createdBy: rec.createdBy }
  }
}
