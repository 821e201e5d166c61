// A migration's secrets: the operator's admin key (until provisioning is done) and the Admin
// identity's API key generated for the cluster's `auth.key`. Held in memory as Secrets, stored
// only sealed with the coordinator's key (the same box that seals rollout changes).
import { Secret } from '../../shared/secrets/secret.js'
import type { Sealer } from '../engine/sealer.js'

/** The secrets of one migration. */
export interface MigrationSecrets {
  adminKey?: Secret | undefined
  apiKey: Secret
}

/** Sealed JSON of the secrets. */
export function sealSecrets (sealer: Sealer, s: MigrationSecrets): string {
  return sealer.seal(JSON.stringify({ apiKey: s.apiKey.reveal(), ...(s.adminKey === undefined ? {} : { adminKey: s.adminKey.reveal() }) }))
}

/** Opens what sealSecrets made; throws CRD_STATE_SEALED for text sealed with another key. */
export function openSecrets (sealer: Sealer, sealed: string): MigrationSecrets {
  const v = JSON.parse(sealer.open(sealed)) as { apiKey: string, adminKey?: string }
  return { apiKey: new Secret(v.apiKey), ...(v.adminKey === undefined ? {} : { adminKey: new Secret(v.adminKey) }) }
}
