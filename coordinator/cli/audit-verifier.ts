// What `keyroll audit verify` needs: check the hash chain of the audit log in a coordinator's
// store file, offline. The real verifier is coordinator/audit's verifyAuditFile, wired in
// `verifyStoreAudit`.
import { CliError } from './errors.js'

/** The result of checking an audit chain. */
export interface AuditVerification {
  ok: boolean
  /** Entries checked. */
  entries: number
  /** The first entry whose hash or link is wrong. */
  firstBadSeq?: number
  message: string
}

/** Verifies the audit chain of the store file `dbPath`. */
export type AuditVerifier = (dbPath: string) => Promise<AuditVerification>

/**
 * The real verifier. WIRING POINT: coordinator/audit's verifyAuditFile lands on the store's
 * branch; until then this refuses with CRD_CLI_STORE_UNAVAILABLE (exit 1).
 */
export const verifyStoreAudit: AuditVerifier = async (dbPath) => {
  throw new CliError('CRD_CLI_STORE_UNAVAILABLE', `cannot verify the audit log in ${dbPath}: this build of keyroll has no store support yet`)
}
