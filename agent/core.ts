// What the agent's HTTP API and CLI drive: the node's change applier, its status, its journal.
// The API layer (agent/app.ts, agent/routes/) depends only on this interface, so it is tested
// with a fake core; the real one is composed in agent/deps.ts from the apply engine and ports.
import type { Change } from '../shared/change/change.js'
import type { Journal } from './os/journal.js'
import type { AgentStatus, Checks } from '../shared/schemas/agent-status.js'
import type { ApplyEvent, ApplyResult, PlanResult } from '../shared/schemas/apply.js'

// The results the core returns are the wire contract itself: the TypeBox schemas in
// shared/schemas/ are the one source, the coordinator validates agents' answers against the same
// schemas, and the routes hand core values to response schemas without conversion.
export type { AgentStatus, Check, Checks, DriftEntry } from '../shared/schemas/agent-status.js'
export type { ApplyEvent, ApplyOutcome, ApplyResult, ApplyStep, FilePlan, LastResult, PlanResult } from '../shared/schemas/apply.js'

/** The node's agent, as the HTTP API and the CLI use it. */
export interface AgentCore {
  /**
   * Computes the plan of a change; writes nothing. The change was validated at the edge (the
   * route or the CLI, shared/change/validate-change.ts, with the agent's defaults). Rejects with a
   * 4xx-coded error when the files it would produce are invalid.
   */
  plan (change: Change): Promise<PlanResult>
  /**
   * Applies a validated change as a transaction. Rejects with AGT_CHANGE_CONFLICT (409) when
   * another apply runs, and with a 4xx-coded error when the change cannot be applied (nothing touched). `check`: plan only, Ansible's
   * --check. Failures after validation resolve with result failed/rolled-back/rollback-failed.
   */
  apply (change: Change, opts?: { check?: boolean, onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal }): Promise<ApplyResult>
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
