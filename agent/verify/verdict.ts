// The verdict on a restart (DESIGN.md "Verifying a restart"): what keyroll claims about a node
// after restarting its unit, with the evidence that backs the claim.
import type { UnitStatus } from '../os/service-manager.js'

/** Taken just before the restart. */
export interface RestartBaseline {
  /** Journal tail cursor: only entries after it can speak for the new run. */
  cursor: string
  /** InvocationID of the run being replaced ('' if none). */
  invocationId: string
  nRestarts: number
  /** Wall-clock ms when the baseline was taken (≈ restart request). */
  takenAt: number
}

/** Why a verdict is what it is. */
export type VerdictReason =
  | 'ready'            // ok: ready line, no fatal line, unit running, health 200, stable for the window
  | 'fatal-line'       // the new run logged a fatal line
  | 'unit-failed'      // the unit entered `failed`
  | 'process-exited'   // the new run's main process exited / systemd restarted it (NRestarts or InvocationID moved on)
  | 'not-started'      // no new InvocationID before the deadline
  | 'not-ready'        // started, but the ready line or health 200 did not come before the deadline
  | 'unstable'         // became ready but did not hold for the stability window before the deadline
  | 'aborted'          // the caller aborted

/** A journal line quoted as evidence. */
export interface EvidenceLine {
  /** Wall-clock ms from the journal's __REALTIME_TIMESTAMP. */
  at: number
  message: string
  kind: 'ready' | 'fatal' | 'other'
  invocationId?: string
}

/** The verdict with its evidence. */
export interface Verdict {
  ok: boolean
  reason: VerdictReason
  /** One human sentence, e.g. "minkms.service started (invocation 3f2…) and was ready after 412 ms". */
  summary: string
  baseline: RestartBaseline
  /** InvocationID of the new run ('' if none appeared). */
  invocationId: string
  /** Unit state when the verdict was reached. */
  unit: UnitStatus | undefined
  /** Matched lines of the new run (ready/fatal), plus the last few lines before a failure. */
  lines: EvidenceLine[]
  /** Wall-clock ms of each milestone, when reached. */
  timings: {
    restartAt: number
    invocationAt?: number
    readyLineAt?: number
    healthyAt?: number
    fatalLineAt?: number
    failedAt?: number
    verdictAt: number
  }
  /** Last health probe answer (true = 200). */
  health?: { ok: boolean, at: number, error?: string }
}

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

/** minkms's lines (reference/minkms.md §5). */
export const MINKMS_READY = /Server is up and running/
export const MINKMS_FATAL = /^\S+ \S+ FATAL |^panic: |\bFATAL\b/
