// The key database as it travels between members (replication, join, catch-up). Each member seals
// key material under its own REK, so a copy cannot travel as it is on disk; on the wire the
// material is sealed instead under a replica key derived from the root API key, which every member
// shares (a node joins only with the cluster's root key). Peers talk over TLS anyway; the second
// seal keeps key material out of every RPC body in clear.
import { hkdfSync } from 'node:crypto'
import { open, seal } from './aead.js'
import type { DbFile, KeyDatabase } from './key-database.js'

/** Domain separation label of the replica key. */
const LABEL = 'minkms-emulator replica key v1'

/** The 32-byte key that seals material in replicas, from the cluster's root API key. */
export function replicaKey (rootApiKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(rootApiKey), Buffer.alloc(0), LABEL, 32))
}

function replicaAd (enclave: string, key: string, version: string): string {
  return `minkms-emulator replica material v1|${JSON.stringify([enclave, key, Number(version)])}`
}

/** Re-seals every version's material of `state` with `reseal` (a new object; `state` is left as is). */
function mapMaterial (state: DbFile, reseal: (enclave: string, key: string, version: string, material: string) => string): DbFile {
  const out = structuredClone(state)
  for (const [enclave, e] of Object.entries(out.enclaves)) {
    for (const [key, k] of Object.entries(e.keys)) {
      for (const [version, v] of Object.entries(k.versions)) v.material = reseal(enclave, key, version, v.material)
    }
  }
  return out
}

/** `db`'s current state with material sealed under the replica key. */
export function toReplica (db: KeyDatabase, key: Buffer, state: DbFile = db.snapshot()): DbFile {
  return mapMaterial(state, (enclave, name, version, material) => {
    const plain = db.openMaterial(enclave, name, Number(version), material)
    return seal(key, plain, replicaAd(enclave, name, version)).toString('base64')
  })
}

/** A replica's state with material sealed under `db`'s REK, ready to install. Throws on a blob that does not open. */
export function fromReplica (db: KeyDatabase, key: Buffer, replica: DbFile): DbFile {
  return mapMaterial(replica, (enclave, name, version, material) => {
    const plain = open(key, Buffer.from(material, 'base64'), replicaAd(enclave, name, version))
    return db.sealMaterial(enclave, name, Number(version), plain)
  })
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function allOf (v: unknown, check: (x: Record<string, unknown>) => boolean): boolean {
  return isObject(v) && Object.values(v).every((x) => isObject(x) && check(x))
}

/** True when `v` has the shape of a key database (the checks a replica from a peer gets). */
export function isDbFile (v: unknown): v is DbFile {
  if (!isObject(v) || v.version !== 1) return false
  return allOf(v.enclaves, (e) => typeof e.createdAt === 'string' && typeof e.createdBy === 'string' &&
    allOf(e.identities, (i) => typeof i.privilege === 'string') &&
    allOf(e.keys, (k) => typeof k.type === 'string' && allOf(k.versions, (ver) => typeof ver.material === 'string') &&
      Object.keys(k.versions as object).every((n) => /^[1-9]\d*$/.test(n))))
}
