// API tokens: `krt_<name>_<64 hex>`. The name is part of the token so that the audit log can say
// who acted without a lookup table; the 256 random bits are the secret. The store keeps only the
// sha256 of the whole token (StoredToken.hash): a stolen store file gives no usable token, and a
// lookup by hash needs no comparison of secrets (the hash is checked again in constant time).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { RolloutStore, StoredToken } from '../store/rollout-store.js'
import { BadInputError } from '../errors.js'

/** Roles, weakest first: a viewer reads, an operator also plans and steers rollouts. */
export const ROLES = ['viewer', 'operator'] as const
export type Role = typeof ROLES[number]

/** What a token may be called: it shows up in the audit log as the actor. No `_` (it separates the parts). */
export const TOKEN_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/
const TOKEN = /^krt_([a-z0-9][a-z0-9.-]{0,62})_([0-9a-f]{64})$/

/** True when `have` is at least `need`. */
export function roleAllows (have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need)
}

/** sha256 hex of a token, as stored. */
export function hashToken (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** The name a well-formed token carries; undefined for anything else. */
export function tokenName (token: string): string | undefined {
  return TOKEN.exec(token)?.[1]
}

/** What {@link createToken} needs of the store. */
export type TokenStore = Pick<RolloutStore, 'putToken' | 'tokenByHash' | 'appendAudit' | 'listTokens'>

/**
 * Creates a token, stores its hash and audits it. Returns the clear token: the only time it
 * exists outside its holder's hands, so the caller shows it once and forgets it.
 */
export async function createToken (store: TokenStore, name: string, role: Role, opts: { actor?: string, now?: number } = {}): Promise<{ token: string, stored: StoredToken }> {
  if (!TOKEN_NAME.test(name)) throw new BadInputError(`token name ${JSON.stringify(name.slice(0, 80))} is not valid: 1-63 of a-z, 0-9, '.', '-', starting with a letter or digit`)
  if (!(ROLES as readonly string[]).includes(role)) throw new BadInputError(`role must be one of ${ROLES.join(', ')}`)
  // Names are the store's key and the audit's actor: a second live token of one name would make
  // two holders indistinguishable (and the store would drop the first). Revoke, then create.
  if ((await store.listTokens()).some(t => t.name === name && t.revokedAt === undefined)) {
    throw new BadInputError(`a token named ${name} exists; revoke it first (keyroll token revoke ${name}) or choose another name`)
  }
  const token = `krt_${name}_${randomBytes(32).toString('hex')}`
  const now = opts.now ?? Date.now()
  const stored: StoredToken = { name, role, hash: hashToken(token), createdAt: now }
  await store.putToken(stored)
  await store.appendAudit({ at: now, actor: opts.actor ?? 'local', action: 'token.create', target: name, detail: { role } })
  return { token, stored }
}

/**
 * Revokes the live token named `name` and audits it; resolves false when there is none (never
 * created, or revoked already). Takes effect on the coordinator's next request with it: every
 * request looks its token up in the store.
 */
export async function revokeToken (store: Pick<RolloutStore, 'revokeToken' | 'appendAudit'>, name: string, opts: { actor?: string, now?: number } = {}): Promise<boolean> {
  if (!TOKEN_NAME.test(name)) throw new BadInputError(`token name ${JSON.stringify(name.slice(0, 80))} is not valid: 1-63 of a-z, 0-9, '.', '-', starting with a letter or digit`)
  const now = opts.now ?? Date.now()
  if (!await store.revokeToken(name, now)) return false
  await store.appendAudit({ at: now, actor: opts.actor ?? 'local', action: 'token.revoke', target: name, detail: {} })
  return true
}

/** Who a request acts as. */
export interface Principal { name: string, role: Role }

/** The principal of a bearer token, or undefined when it is malformed, unknown or revoked. */
export async function principalOf (store: Pick<RolloutStore, 'tokenByHash'>, token: string): Promise<Principal | undefined> {
  const name = tokenName(token)
  if (name === undefined) return undefined
  const hash = hashToken(token)
  const stored = await store.tokenByHash(hash)
  if (stored === undefined || stored.revokedAt !== undefined) return undefined
  // Defence in depth: whatever the store matched on, the hashes must be equal, compared in constant time.
  const a = Buffer.from(stored.hash, 'hex')
  const b = Buffer.from(hash, 'hex')
  if (a.length !== b.length || !timingSafeEqual(a, b) || stored.name !== name) return undefined
  return { name, role: stored.role }
}
