// What `keyroll audit verify` needs: check the hash chain of the audit log in a coordinator's
// store file, offline (read-only: a running coordinator may hold it). The command depends on this
// narrow port; the real one is coordinator/audit's verifyAuditFile.
import type { AuditVerification } from '../audit/audit-chain.js'
import { verifyAuditFile } from '../audit/verify-audit-file.js'
import { CliError } from './errors.js'

export type { AuditVerification }

/** Verifies the audit chain of the store file `dbPath`. */
export type AuditVerifier = (dbPath: string) => Promise<AuditVerification>

/** The real verifier; a file that cannot be opened is CRD_CLI_STORE_UNAVAILABLE (exit 1). */
export const verifyStoreAudit: AuditVerifier = async (dbPath) => {
  try {
    return await verifyAuditFile(dbPath)
  } catch (err) {
    const e = err as { code?: unknown, message?: unknown }
    throw new CliError('CRD_CLI_STORE_UNAVAILABLE', `cannot verify the audit log in ${dbPath}: ${typeof e.code === 'string' ? `${e.code}: ` : ''}${String(e.message ?? err)}`, { cause: err })
  }
}
