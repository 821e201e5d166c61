// What `keyroll token create` and `token revoke` need from the coordinator's store: make a token,
// store its hash, hand back the secret once; revoke one by name. The command depends on this narrow port; the real one is wired to
// coordinator/auth (createToken) over the SQLite store in `openStoreTokenIssuer`.
import { existsSync } from 'node:fs'
import { createToken, revokeToken } from '../auth/tokens.js'
import { SqliteRolloutStore } from '../store/sqlite-rollout-store.js'
import { CliError } from './errors.js'

/** Roles of API tokens (docs/coordinator.md). */
export const TOKEN_ROLES = ['viewer', 'operator'] as const
export type TokenRole = typeof TOKEN_ROLES[number]

/** Issues tokens into a coordinator's store. */
export interface TokenIssuer {
  /** Creates a token named `name` with `role`; resolves with the token, which is not stored in clear anywhere. */
  create (name: string, role: TokenRole): Promise<string>
  /** Revokes the live token named `name`; false when there is none. */
  revoke (name: string): Promise<boolean>
  close (): Promise<void>
}

/** Opens the token store of the coordinator whose state directory is `stateDir`. */
export type OpenTokenIssuer = (stateDir: string) => Promise<TokenIssuer>

/**
 * The real issuer: the coordinator's SQLite store in `stateDir` and coordinator/auth's
 * createToken. The directory must exist (a mistyped --state-dir must not create a new, empty
 * store that the coordinator never reads).
 */
export const openStoreTokenIssuer: OpenTokenIssuer = async (stateDir) => {
  if (!existsSync(stateDir)) throw new CliError('CRD_CLI_STORE_UNAVAILABLE', `no coordinator state directory ${stateDir}: give the coordinator's stateDir (default /var/lib/keyroll-coordinator)`)
  const store = SqliteRolloutStore.inStateDir(stateDir)
  return {
    create: async (name, role) => (await createToken(store, name, role, { actor: 'local' })).token,
    revoke: async (name) => await revokeToken(store, name, { actor: 'local' }),
    close: async () => { await store.close() }
  }
}
