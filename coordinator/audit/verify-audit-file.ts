// `keyroll-coordinator audit verify`: checks the hash chain of the audit log in a store file. The
// file is opened read-only (nothing created, migrated or written; a coordinator may be running on
// it) and the entries stream through the verifier, so a long log needs no memory to speak of.
import { openStoreDb } from '../store/sqlite-db.js'
import { auditEntry } from '../store/sqlite-rollout-store.js'
import { AuditChainVerifier, type AuditVerification } from './audit-chain.js'

/** Verifies the audit chain of the store at `dbPath` (`<stateDir>/keyroll.db`). */
export async function verifyAuditFile (dbPath: string): Promise<AuditVerification> {
  const db = openStoreDb(dbPath, { readonly: true })
  try {
    const v = new AuditChainVerifier()
    for (const row of db.prepare('SELECT * FROM audit ORDER BY rowid').iterate()) v.push(auditEntry(row as Parameters<typeof auditEntry>[0]))
    return v.result()
  } finally {
    db.close()
  }
}
