// The names the HSM migration acts on, as minkms spells them. The config path and the HSM's name
// in the cluster status differ in form (`hsm.minio.minkms` vs `hsm:minio:minkms`), and the local
// software HSM of MINIO_KMS_HSM_KEY has no config block at all: minkms reports it as
// `hsm:minio:soft`, the name CLUSTER:REMOVEHSM takes to drop its sealed copy of the root key.
export { EXTERNAL_HSM_NAME } from '../../shared/schemas/hsm-migration.js'
export { HSM_KEY_VARIABLE } from '../../shared/edit/minkms-env.js'

/** Dotted path of the external Key Manager HSM's section in the minkms config. */
export const EXTERNAL_HSM_PATH = 'hsm.minio.minkms'

/** The local software HSM (MINIO_KMS_HSM_KEY) as minkms names it in status and in CLUSTER:REMOVEHSM. */
export const LOCAL_HSM_NAME = 'hsm:minio:soft'
