// Who may run what. The caller is the `h1:` identity of its TLS client certificate.
// - root (the HSM-derived root key, `admin.identity`, or any SysAdmin identity): everything;
// - an Admin identity of enclave E: key, identity and policy commands in E;
// - User identities (the emulator has no policies) and unknown identities: nothing.
// Only root may run cluster and enclave commands. Denials are minkms's exact 403.
import { isClusterCommand } from '../../../shared/minkms/commands.js'
import type { KeyDatabase } from './key-database.js'
import { kmsError } from './kms-error.js'

/** What authorisation needs to know about the node. */
export interface AccessView {
  /** Identities with root (SysAdmin) rights by configuration. */
  readonly rootIdentities: ReadonlySet<string>
  readonly db: KeyDatabase
}

/** True for root-equivalent callers. */
export function isRoot (view: AccessView, identity: string | undefined): boolean {
  return identity !== undefined && (view.rootIdentities.has(identity) || view.db.isSysAdmin(identity))
}

/** Throws 403 unless `identity` may run `command` in `enclave`. */
export function authorize (view: AccessView, identity: string | undefined, command: number, enclave: string): void {
  if (identity === undefined) throw kmsError('permissionDenied')
  if (isRoot(view, identity)) return
  if (isClusterCommand(command)) throw kmsError('permissionDenied')
  const rec = view.db.identity(enclave, identity)
  if (rec?.privilege === 'Admin') return
  throw kmsError('permissionDenied')
}
