// The two changes the migration rolls out, in the change model's wire form (shared/change).
// Phase A adds the external Key Manager HSM beside the local one, so every node seals its root
// key with both; phase B takes the local HSM away (and, with replaceHsm, the other HSM block),
// which is safe only once every node holds the external HSM's sealed copy. Both restart only
// when a file changed, so a node already on the change is not restarted again.
import type { ChangeSpec } from '../../shared/change/schema.js'
import type { Secret } from '../../shared/secrets/secret.js'
import { EXTERNAL_HSM_PATH, HSM_KEY_VARIABLE } from './hsm-names.js'

/** What phase A writes into `hsm.minio.minkms`. */
export interface ExternalHsmSection {
  servers: readonly string[]
  enclave: string
  key: string
  /** The Admin identity's API key (auth.key); sent as a secret, masked in every view. */
  apiKey: Secret
}

/** Phase A: `hsm.minio.minkms` { server, enclave, key, auth.key } added to the config. */
export function phaseAChange (revision: number, s: ExternalHsmSection): ChangeSpec {
  return {
    revision,
    files: {
      config: {
        set: {
          [EXTERNAL_HSM_PATH]: { server: [...s.servers], enclave: s.enclave, key: s.key, auth: { key: { $secret: s.apiKey.reveal() } } }
        }
      }
    },
    restart: 'on-change'
  }
}

/** Phase B: MINIO_KMS_HSM_KEY removed from the env file, and `removeBlocks` (the replaced HSM) from the config. */
export function phaseBChange (revision: number, removeBlocks: readonly string[] = []): ChangeSpec {
  return {
    revision,
    files: {
      env: { unset: [HSM_KEY_VARIABLE] },
      ...(removeBlocks.length === 0 ? {} : { config: { delete: [...removeBlocks] } })
    },
    restart: 'on-change'
  }
}
