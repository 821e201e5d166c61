// What the keyroll command line is made of: exit codes, its I/O and the dependencies a test
// replaces.
import type { AuditVerifier } from './audit-verifier.js'
import type { OpenTokenIssuer } from './token-issuer.js'

/**
 * Exit codes. 0 ok (and `rollout watch`, `hsm migrate|watch`: it succeeded) · 1 the coordinator
 * failed or could not be reached, or the watched rollout or HSM migration failed, was aborted or
 * reverted, or an HSM migration dry run found it would be refused · 2 bad input: flags, files
 * (an admin key file others can read), or a 4xx answer (unknown rollout, busy cluster, wrong plan
 * hash, no or a weak token).
 */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const

/** A stream the CLI writes to; `isTTY` and `columns` as on process.stdout. */
export interface CliOutput {
  write: (s: string) => unknown
  isTTY?: boolean
  columns?: number
}

/** Where the CLI writes. */
export interface CliIo {
  stdout: CliOutput
  stderr: CliOutput
}

/** Dependencies a test replaces. */
export interface CliDeps {
  /** Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>
  /** Opens the coordinator's token store in a state directory (`keyroll token create`). */
  openTokenIssuer?: OpenTokenIssuer
  /** Verifies the audit chain of a store file (`keyroll audit verify`). */
  verifyAudit?: AuditVerifier
  /** Delay before the `attempt`-th reconnect of `rollout watch` and `hsm watch` (1-based), in ms. */
  reconnectDelayMs?: (attempt: number) => number
  /** HTTP timeouts (connect, headers, body pauses) in ms; default 60 s. */
  httpTimeoutMs?: number
}
