// The HSM abstraction: something that seals and unseals the Root Encryption Key (REK). A node
// keeps one sealed entry per HSM in its data directory (rek-store.ts). Names are what ServerStatus
// reports in HSMs / ConfiguredHSMs and what CLUSTER:ADDHSM / REMOVEHSM take.

/** The software HSM of MINIO_KMS_HSM_KEY (the name real minkms prints). */
export const SOFT_HSM_NAME = 'hsm:minio:soft'
/** An external Key Manager (`hsm.minio.minkms`); real minkms's name is undocumented. */
export const EXTERNAL_KMS_HSM_NAME = 'hsm:minio:minkms'

/** A REK sealed by one HSM, as stored on disk (JSON). */
export type SealedRek =
  | { hsm: string, type: 'aes256-gcm', createdAt: string, ciphertext: string }
  | { hsm: string, type: 'minkms', createdAt: string, enclave: string, key: string, version: number, ciphertext: string }

/** One configured HSM. Implementations may do network I/O and must time out on their own. */
export interface Hsm {
  /** `hsm:minio:soft`, `hsm:minio:minkms`. */
  readonly name: string
  /** Seals the 32-byte REK; rejects with a message fit for a log line (no secrets). */
  seal (rek: Buffer): Promise<SealedRek>
  /** Returns the REK of an entry this HSM sealed; rejects when it cannot (wrong key, unreachable). */
  unseal (entry: SealedRek): Promise<Buffer>
}
