// The verdict on a restart (docs/design.md, "The verdict"): what keyroll claims about a node
// after restarting its unit, with the evidence that backs the claim.
// The verdict's types are the API's schemas (shared/schemas/verdict.ts): one definition, so what
// the verifier builds is exactly what /v1/apply streams and what the coordinator reads.
export type { EvidenceLine, RestartBaseline, Verdict, VerdictReason } from '../../shared/schemas/verdict.js'

/** What a verification waits for. */
export interface VerifyOptions {
  /** Give up (not-started / not-ready / unstable) after this many ms from the baseline. */
  deadlineMs: number
  /** Everything must hold this long after becoming ready. */
  stableForMs: number
  /** The ready line (minkms: `Server is up and running`). */
  readyPattern: RegExp
  /** A fatal line (minkms: a `FATAL` level line, or a Go-style `panic:`). */
  fatalPattern: RegExp
  signal?: AbortSignal
}

/** The lines minkms prints when it is ready to serve, and when it gives up (FATAL, exits). */
export { MINKMS_FATAL, MINKMS_READY } from '../../shared/minkms/journal-lines.js'
