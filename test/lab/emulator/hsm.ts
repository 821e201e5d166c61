// The HSM abstraction: something that seals and unseals the Root Encryption Key (REK). A node
// keeps one sealed entry per HSM in its data directory (rek-store.ts). Names are what ServerStatus
// reports in HSMs / ConfiguredHSMs and what CLUSTER:ADDHSM / REMOVEHSM take.

/** The software HSM of MINIO_KMS_HSM_KEY (the name real minkms prints). */
export const SOFT_HSM_NAME = 'hsm:minio:soft'
/** An external Key Manager (`hsm.minio.minkms`); real minkms's name is undocumented. */
export const EXTERNAL_KMS_HSM_NAME = 'hsm:minio:minkms'
/** HashiCorp Vault's transit engine (`hsm.hashicorp.vault`); an emulator choice of name. */
export const VAULT_HSM_NAME = 'hsm:hashicorp:vault'

/** A REK sealed by one HSM, as stored on disk (JSON). */
export type SealedRek =
  | { hsm: string, type: 'aes256-gcm', createdAt: string, ciphertext: string }
  | { hsm: string, type: 'minkms', createdAt: string, enclave: string, key: string, version: number, ciphertext: string }
  | { hsm: string, type: 'vault-transit', createdAt: string, server: string, engine: string, key: string, ciphertext: string }

/** One configured HSM. Implementations may do network I/O and must time out on their own. */
export interface Hsm {
  /** `hsm:minio:soft`, `hsm:hashicorp:vault`, `hsm:minio:minkms`. */
  readonly name: string
  /** Seals the 32-byte REK; rejects with a message fit for a log line (no secrets). */
  seal (rek: Buffer): Promise<SealedRek>
  /** Returns the REK of an entry this HSM sealed; rejects when it cannot (wrong key, unreachable). */
  unseal (entry: SealedRek): Promise<Buffer>
  /**
   * The Ed25519 seed of the root API key a node derives from this HSM in the derived root
   * identity mode (root-identity.ts): 32 bytes every node configured with this HSM alike derives
   * alike, and no other HSM does. Never logged.
   */
  rootKeySeed (): Buffer
}
