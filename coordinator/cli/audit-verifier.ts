// What `keyroll audit verify` needs: check the hash chain of the audit log in a coordinator's
// store file, offline. The real verifier is coordinator/audit's verifyAuditFile, wired in
// `verifyStoreAudit`.
import { CliError } from './errors.js'

/** The result of checking an audit chain (coordinator/audit's AuditVerification). */
export interface AuditVerification {
  readonly ok: boolean
  /** Entries read. */
  readonly entries: number
  /** Hash of the last entry read: write it down to anchor the chain. */
  readonly head: string
  /** The first entry that breaks the chain, and why. */
  readonly firstBad?: { readonly seq: number, readonly reason: string }
}

/** Verifies the audit chain of the store file `dbPath`. */
export type AuditVerifier = (dbPath: string) => Promise<AuditVerification>

/**
 * The real verifier. WIRING POINT: coordinator/audit's verifyAuditFile lands on the store's
 * branch; until then this refuses with CRD_CLI_STORE_UNAVAILABLE (exit 1). Once it is in:
 * `export const verifyStoreAudit: AuditVerifier = verifyAuditFile` (same signature and result).
 */
export const verifyStoreAudit: AuditVerifier = async (dbPath) => {
  throw new CliError('CRD_CLI_STORE_UNAVAILABLE', `cannot verify the audit log in ${dbPath}: this build of keyroll has no store support yet`)
}
