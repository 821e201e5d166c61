// What the agent's HTTP API and CLI drive: the node's change applier, its status, its journal.
// The API layer (agent/app.ts, agent/routes/) depends only on this interface, so it is tested
// with a fake core; the real one is composed in agent/deps.ts from the apply engine and ports.
import type { Journal } from './os/journal.js'
import type { AgentStatus, Checks } from '../shared/schemas/agent-status.js'
import type { ApplyEvent, ApplyResult, PlanResult } from '../shared/schemas/apply.js'

// The results the core returns are the wire contract itself: the TypeBox schemas in
// shared/schemas/ are the one source, the coordinator validates agents' answers against the same
// schemas, and the routes hand core values to response schemas without conversion.
export type { AgentStatus, Check, Checks, DriftEntry } from '../shared/schemas/agent-status.js'
export type { ApplyEvent, ApplyOutcome, ApplyResult, ApplyStep, FilePlan, LastResult, PlanResult } from '../shared/schemas/apply.js'

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
  ready (): Promise<{ ok: boolean, checks: Checks }>
}
