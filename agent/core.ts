// What the agent's HTTP API and CLI drive: the node's change applier, its status, its journal.
// The API layer (agent/app.ts, agent/routes/) depends only on this interface, so it is tested
// with a fake core; the real one is composed in agent/deps.ts from the apply engine and ports.
import type { Change } from '../shared/change/change.js'
import type { Logger } from '../shared/logger.js'
import type { AgentConfig } from './config.js'
import type { Journal } from './os/journal.js'
import type { AgentStatus, Checks } from '../shared/schemas/agent-status.js'
import type { ApplyEvent, ApplyResult, PlanResult } from '../shared/schemas/apply.js'
import type { StagedChange } from '../shared/schemas/staged.js'

// The results the core returns are the wire contract itself: the TypeBox schemas in
// shared/schemas/ are the one source, the coordinator validates agents' answers against the same
// schemas, and the routes hand core values to response schemas without conversion.
export type { AgentStatus, Check, Checks, DriftEntry } from '../shared/schemas/agent-status.js'
export type { ApplyEvent, ApplyOutcome, ApplyResult, ApplyStep, FilePlan, LastResult, PlanResult } from '../shared/schemas/apply.js'
export type { StagedChange } from '../shared/schemas/staged.js'
import type { RestartPolicy } from '../shared/change/schema.js'

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
  /**
   * Restores the files of the previous committed revision (same transaction rules). Restarts as
   * the rolled-back change's restart policy says, unless `restart` overrides it.
   */
  rollback (opts?: { onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal, restart?: RestartPolicy }): Promise<ApplyResult>
  /**
   * Stages a validated change: the revision rules, plan and unit precheck of an apply, under the
   * apply lock, refused as an apply is (409 conflict, stale or conflicting revision; 400 invalid
   * result); then keeps what its transaction needs in memory only, replacing any change staged
   * before, until it expires. Writes nothing.
   */
  stage (change: Change): Promise<StagedChange>
  /**
   * Runs the staged change of `revision` as an apply's transaction, without planning again.
   * Rejects with AGT_NOT_STAGED (nothing or another revision staged, expired) or AGT_STAGED_STALE
   * (the files or the applied revision moved since; the staged change is dropped), both 409,
   * and AGT_CHANGE_CONFLICT as an apply. Otherwise the staged change is consumed, whatever the result.
   */
  commitStaged (revision: number, opts?: { onEvent?: (e: ApplyEvent) => void, signal?: AbortSignal }): Promise<ApplyResult>
  /** Drops the staged change; the revision dropped, or undefined when nothing was staged. */
  discardStaged (): Promise<number | undefined>
  status (): Promise<AgentStatus>
  /** Prometheus text exposition of the agent's metrics. */
  metrics (): Promise<string>
  /** The unit's journal (for GET /v1/journal). */
  readonly journal: Journal
  readonly unit: string
  /** Liveness of the core's own machinery: config loaded, unit state known, journal attached. */
  ready (): Promise<{ ok: boolean, checks: Checks }>
}

/** What `recover` did. */
export interface RecoverResult {
  /** none: no interrupted transaction; finished/undone: the files are now on `revision`. */
  action: 'none' | 'finished' | 'undone'
  /** The revision the files are on now. */
  revision: number
  message: string
}

/** A core that runs in this process: the CLI and the daemon own it and close it. */
export interface RunningCore extends AgentCore {
  /** Stops watchers, followers, timers and background work; resolves when nothing is left running. */
  close: () => Promise<void>
  /**
   * Finishes or undoes a transaction that was interrupted (agent killed mid-apply) from local
   * state only: no network, no coordinator, no restart, bounded in time. Run by the unit's
   * ExecStartPre before minkms starts at boot (systemd/README.md "Boot order"). Rejects when the
   * files cannot be brought to a consistent revision.
   */
  recover: () => Promise<RecoverResult>
}

/**
 * What a core is built for. `daemon`: the long-running agent (an interrupted apply undone with a
 * restart, boot convergence, drift watching); `command`: one CLI command that changes files
 * (apply), an interrupted apply undone first, nothing in the background; `read`: plan and status,
 * which change nothing (an interrupted apply is reported, not undone, and a running one does not
 * make them fail); `recover`: the unit's ExecStartPre, which calls recover() and nothing else.
 */
export type CoreMode = 'daemon' | 'command' | 'read' | 'recover'

/** Builds the real core (agent/deps.ts createCore); tests of the CLI pass a fake one. */
export type CreateCore = (config: AgentConfig, logger: Logger, opts: { mode: CoreMode }) => Promise<RunningCore>
