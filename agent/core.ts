// What the agent's HTTP API and CLI drive: the node's change applier, its status, its journal.
// The API layer (agent/app.ts, agent/routes/) depends only on this interface, so it is tested
// with a fake core; the real one is composed in agent/deps.ts from the apply engine and ports.
import type { UnitStatus } from './os/service-manager.js'
import type { Journal } from './os/journal.js'
import type { Verdict } from './verify/verdict.js'

/** Outcome of an apply, Ansible-style plus keyroll's rollback states. */
export type ApplyOutcome = 'ok' | 'changed' | 'failed' | 'rolled-back' | 'rollback-failed'

/** Steps of the apply transaction, in order. */
export type ApplyStep = 'plan' | 'lock' | 'backup' | 'validate' | 'write' | 'restart' | 'verify' | 'commit'
  | 'restore' | 'restart-restore' | 'verify-restore'

/** Progress of an apply (streamed as NDJSON by POST /v1/apply). Never carries secret values. */
export interface ApplyEvent {
  step: ApplyStep
  status: 'started' | 'done' | 'failed' | 'skipped'
  /** Wall-clock ms. */
  at: number
  message?: string
}

/** A managed file's part of a plan. */
export interface FilePlan {
  /** Logical name from the agent config (`config`, `env`). */
  name: string
  path: string
  changed: boolean
  /** Unified line diff, secrets shown as `***<fingerprint>`. Empty when unchanged. */
  diff: string
}

/** What an apply would do (no writes). */
export interface PlanResult {
  revision: number
  changed: boolean
  /** Whether the unit would be restarted (restart policy and `changed`). */
  restart: boolean
  files: FilePlan[]
}

/** The result of an apply or rollback. */
export interface ApplyResult {
  result: ApplyOutcome
  revision: number
  changed: boolean
  restarted: boolean
  /** The step that failed, when one did. */
  failedStep?: ApplyStep
  /** One sentence for humans; names the problem on failure. */
  message: string
  plan: PlanResult
  verdict?: Verdict
  /** Verdict on the restart after restoring the backup. */
  rollbackVerdict?: Verdict
}

/** A managed file that differs from what the agent last wrote. */
export interface DriftEntry {
  name: string
  path: string
  /** Short keyed fingerprint of the content found on disk ('' when the file is missing). */
  fingerprint: string
  /** Fingerprint of what the agent last wrote or accepted. */
  expected: string
  /** Wall-clock ms when it was first seen. */
  since: number
}

/** Health checks shown by /health/ready and /v1/status. */
export interface Check { ok: boolean, message: string }

/** The node as /v1/status shows it. Never carries secret values. */
export interface AgentStatus {
  node: string
  unit: { name: string, status?: UnitStatus }
  /** Revision the files are on (last committed apply), 0 when none. */
  appliedRevision: number
  /** Revision last accepted (desired); differs from appliedRevision while applying or after a failure. */
  desiredRevision: number
  applying: boolean
  drift: DriftEntry[]
  lastResult?: Omit<ApplyResult, 'plan'> & { at: number }
  checks: { config: Check, unit: Check, journal: Check }
}

/** Change input as the API and CLI accept it (validated by shared/change before it gets here). */
export type ChangeInput = unknown

/** The node's agent, as the HTTP API and the CLI use it. */
export interface AgentCore {
  /** Validates `change` and computes its plan; writes nothing. Rejects with a 4xx-coded error on bad input. */
  plan (change: ChangeInput): Promise<PlanResult>
  /**
   * Applies `change` as a transaction. Rejects with AGT_CHANGE_CONFLICT (409) when another apply
   * runs, and with a 4xx-coded error on bad input (nothing touched). `check`: plan only, Ansible's
   * --check. Failures after validation resolve with result failed/rolled-back/rollback-failed.
   */
  apply (change: ChangeInput, opts?: { check?: boolean, onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal }): Promise<ApplyResult>
  /** Restores the files of the previous committed revision (same transaction rules). */
  rollback (opts?: { onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal }): Promise<ApplyResult>
  status (): Promise<AgentStatus>
  /** Prometheus text exposition of the agent's metrics. */
  metrics (): Promise<string>
  /** The unit's journal (for GET /v1/journal). */
  readonly journal: Journal
  readonly unit: string
  /** Liveness of the core's own machinery: config loaded, unit state known, journal attached. */
  ready (): Promise<{ ok: boolean, checks: AgentStatus['checks'] }>
}
