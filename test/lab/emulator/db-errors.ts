// Maps KeyDatabase outcomes to minkms's exact errors.
import type { DbResult } from './key-database.js'
import { conflict, kmsError, type KmsHttpError } from './kms-error.js'

/** Throws the error for a failed database change; returns for 'ok'. */
export function checkDb (result: DbResult): void {
  const err = errorOf(result)
  if (err !== undefined) throw err
}

function errorOf (result: DbResult): KmsHttpError | undefined {
  switch (result) {
    case 'ok': return undefined
    case 'enclave-missing': return kmsError('enclaveNotFound')
    case 'enclave-exists': return kmsError('enclaveExists')
    case 'key-missing': return kmsError('keyNotFound')
    case 'key-exists': return kmsError('keyExists')
    case 'identity-missing': return kmsError('identityNotFound')
    // minkms's catalogue has no "identity exists" error; 409 with a clear text.
    case 'identity-exists': return conflict('identity already exists')
  }
}
