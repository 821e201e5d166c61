// The sealed Root Encryption Key entries of one node: `rek.json` in the data directory, a map from
// HSM name to the REK sealed by that HSM. Entries of HSMs that are no longer configured stay
// until CLUSTER:REMOVEHSM deletes them (so ServerStatus HSMs may differ from ConfiguredHSMs).
import { readJsonFile, writeJsonAtomic } from './atomic-file.js'
import type { SealedRek } from './hsm.js'

interface RekFile { version: 1, entries: Record<string, SealedRek> }

function isSealedRek (v: unknown): v is SealedRek {
  if (typeof v !== 'object' || v === null) return false
  const e = v as Record<string, unknown>
  return typeof e.hsm === 'string' && typeof e.ciphertext === 'string' &&
    (e.type === 'aes256-gcm' || (e.type === 'minkms' && typeof e.enclave === 'string' &&
      typeof e.key === 'string' && typeof e.version === 'number') ||
      (e.type === 'vault-transit' && typeof e.server === 'string' && typeof e.engine === 'string' && typeof e.key === 'string'))
}

/** Reads and writes `rek.json`. Not safe for concurrent writers; the server serialises HSM commands. */
export class RekStore {
  readonly #path: string

  constructor (path: string) {
    this.#path = path
  }

  /** All entries by HSM name; empty for a fresh data directory. Throws on a corrupt file. */
  async load (): Promise<Map<string, SealedRek>> {
    const raw = await readJsonFile(this.#path)
    if (raw === undefined) return new Map()
    const file = raw as Partial<RekFile>
    if (file.version !== 1 || typeof file.entries !== 'object' || file.entries === null) {
      throw new Error(`${this.#path}: unknown format`)
    }
    const out = new Map<string, SealedRek>()
    for (const [name, entry] of Object.entries(file.entries)) {
      if (!isSealedRek(entry) || entry.hsm !== name) throw new Error(`${this.#path}: malformed entry '${name}'`)
      out.set(name, entry)
    }
    return out
  }

  /** Names of the HSMs with an entry, sorted. */
  async names (): Promise<string[]> {
    return [...(await this.load()).keys()].sort()
  }

  /** Adds or replaces the entry of `entry.hsm`. */
  async put (entry: SealedRek): Promise<void> {
    const entries = await this.load()
    entries.set(entry.hsm, entry)
    await this.#write(entries)
  }

  /** Deletes the entry of `name`; false when there was none. */
  async remove (name: string): Promise<boolean> {
    const entries = await this.load()
    if (!entries.delete(name)) return false
    await this.#write(entries)
    return true
  }

  async #write (entries: Map<string, SealedRek>): Promise<void> {
    const file: RekFile = { version: 1, entries: Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b))) }
    await writeJsonAtomic(this.#path, file)
  }
}
