// The audit log's hash chain. Each entry's hash is sha256 over a canonical JSON of its fields and
// the previous entry's hash, so editing, removing, reordering or inserting an entry breaks the
// chain at that entry or the next one. A chain alone cannot catch a rewrite of every entry from
// some point to the end (whoever can write the file can recompute the hashes), so verification
// also reports the head hash: an operator who writes it down elsewhere (a ticket, the journal)
// can later prove nothing before it changed.
import { createHash } from 'node:crypto'
import type { AuditEntry } from '../store/rollout-store.js'

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64)

/** An audit entry before the store numbers and chains it. */
export type NewAuditEntry = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>

/**
 * Canonical JSON: object keys sorted, no whitespace, values as JSON.stringify writes them
 * (undefined members dropped). The same value always gives the same text.
 */
export function canonicalJson (value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON: () => unknown }).toJSON())
  if (Array.isArray(value)) return `[${value.map(v => v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v)).join(',')}]`
  const parts: string[] = []
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k]
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue
    parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`)
  }
  return `{${parts.join(',')}}`
}

/** The hash of an entry: sha256 hex over the canonical JSON of its fields (all but `hash`). */
export function auditHash (e: Omit<AuditEntry, 'hash'>): string {
  const fields = {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    target: e.target,
    planHash: e.planHash ?? null,
    detail: e.detail,
    prevHash: e.prevHash
  }
  return createHash('sha256').update(canonicalJson(fields)).digest('hex')
}

/**
 * The entry that follows `prev` (undefined: the first). `detail` goes through a JSON round trip
 * first, so the entry hashed is exactly the one a store reads back.
 */
export function chainAuditEntry (prev: Pick<AuditEntry, 'seq' | 'hash'> | undefined, e: NewAuditEntry): AuditEntry {
  const detail = JSON.parse(JSON.stringify(e.detail ?? {})) as Record<string, unknown>
  const unhashed = {
    seq: prev === undefined ? 1 : prev.seq + 1,
    at: e.at,
    actor: e.actor,
    action: e.action,
    target: e.target,
    ...(e.planHash === undefined ? {} : { planHash: e.planHash }),
    detail,
    prevHash: prev === undefined ? GENESIS_HASH : prev.hash
  }
  return { ...unhashed, hash: auditHash(unhashed) }
}

/** The result of verifying a chain. */
export interface AuditVerification {
  /** True when every entry is in place and unchanged. */
  readonly ok: boolean
  /** How many entries were read. */
  readonly entries: number
  /** Hash of the last entry read (GENESIS_HASH for an empty log); write it down to anchor the chain. */
  readonly head: string
  /** The first entry that breaks the chain, and why. */
  readonly firstBad?: { readonly seq: number, readonly reason: string }
}

/**
 * Verifies entries one at a time (a log too large for memory streams through it). After the first
 * bad entry the rest are counted, not judged: everything after a break is suspect anyway.
 */
export class AuditChainVerifier {
  #count = 0
  #prev: Pick<AuditEntry, 'seq' | 'hash'> | undefined
  #firstBad: { seq: number, reason: string } | undefined

  push (e: AuditEntry): void {
    this.#count++
    if (this.#firstBad !== undefined) return
    const bad = this.#check(e)
    if (bad !== undefined) this.#firstBad = { seq: e.seq, reason: bad }
    this.#prev = { seq: e.seq, hash: e.hash }
  }

  result (): AuditVerification {
    const head = this.#prev?.hash ?? GENESIS_HASH
    if (this.#firstBad !== undefined) return { ok: false, entries: this.#count, head, firstBad: this.#firstBad }
    return { ok: true, entries: this.#count, head }
  }

  #check (e: AuditEntry): string | undefined {
    const want = this.#prev === undefined ? 1 : this.#prev.seq + 1
    if (e.seq < want) return `seq ${e.seq} comes after seq ${want - 1}: an entry was reordered or inserted`
    if (e.seq > want) return `seq ${e.seq} follows seq ${want - 1}: ${e.seq - want === 1 ? 'an entry is' : `${e.seq - want} entries are`} missing (removed or reordered)`
    const prevHash = this.#prev?.hash ?? GENESIS_HASH
    if (e.prevHash !== prevHash) return 'prevHash is not the hash of the entry before: an entry before it was edited, removed or inserted'
    if (auditHash(e) !== e.hash) return 'hash does not match the entry\'s content: the entry was edited'
    return undefined
  }
}

/** Verifies a whole log, oldest first, starting at seq 1. */
export function verifyAuditChain (entries: Iterable<AuditEntry>): AuditVerification {
  const v = new AuditChainVerifier()
  for (const e of entries) v.push(e)
  return v.result()
}
