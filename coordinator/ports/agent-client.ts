// What the coordinator asks of one node's keyroll-agent (its HTTPS API, mutual TLS). The rollout
// engine and the routes depend on this interface only; the real implementation speaks HTTP
// (agents/http-agent-client.ts), the fake scripts answers in memory (agents/fake-agent-client.ts).
// Answers are the agent's wire types (shared/schemas), validated against the same schemas.
import type { ChangeSpec, RestartPolicy } from '../../shared/change/schema.js'
import type { AgentStatus } from '../../shared/schemas/agent-status.js'
import type { ApplyEvent, ApplyResult, PlanResult } from '../../shared/schemas/apply.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import type { ExternalKmsPreflightRequest, ExternalKmsPreflightResult } from '../../shared/schemas/preflight.js'
import type { NodeRef } from './node-ref.js'

/** Options of a call that streams progress. */
export interface StreamOptions {
  /** Each progress line as it arrives. */
  onEvent?: (e: ApplyEvent) => void
  /** Aborting closes the connection; the agent finishes (or undoes) its transaction by itself. */
  signal?: AbortSignal
}

/** One node's agent. Every method rejects with a CRD_AGENT_* coded error when the agent cannot be reached or answers an error. */
export interface AgentClient {
  /** GET /v1/status. */
  status (node: NodeRef, opts?: { signal?: AbortSignal }): Promise<AgentStatus>
  /** GET /health/ready: true on 200, false on 503; rejects when unreachable. */
  ready (node: NodeRef, opts?: { signal?: AbortSignal }): Promise<boolean>
  /** POST /v1/plan (JSON body, secrets as `{ "$secret": … }`). */
  plan (node: NodeRef, change: ChangeSpec, opts?: { signal?: AbortSignal }): Promise<PlanResult>
  /** POST /v1/apply, NDJSON read to its `{ result }` line. A 409 (lock held, stale/conflicting revision) rejects with its code. */
  apply (node: NodeRef, change: ChangeSpec, opts?: StreamOptions): Promise<ApplyResult>
  /** POST /v1/rollback to the node's previous committed revision. */
  rollback (node: NodeRef, opts?: StreamOptions & { restart?: RestartPolicy }): Promise<ApplyResult>
  /** The cursor of the newest entry of the unit's journal (GET /v1/journal), undefined when empty. */
  journalCursor (node: NodeRef, opts?: { signal?: AbortSignal }): Promise<string | undefined>
  /** The newest `limit` entries of the unit's journal, oldest first (GET /v1/journal?limit=N, as journalctl -n). */
  journalTail (node: NodeRef, opts: { limit: number, signal?: AbortSignal }): Promise<JournalEntry[]>
  /**
   * Follows the unit's journal after `after` (GET /v1/journal?follow=1), calling `onEntry` per
   * entry, until `signal` aborts (resolves) or the stream breaks (rejects).
   */
  followJournal (node: NodeRef, opts: { after?: string, signal: AbortSignal, onEntry: (e: JournalEntry) => void }): Promise<void>
}

/**
 * What the HSM migration asks of a node's agent besides the rollout's calls: a port of its own, so
 * the rollout engine and its doubles depend on AgentClient alone. Both implementations of
 * AgentClient implement it too.
 */
export interface AgentPreflightClient {
  /**
   * POST /v1/preflight/external-kms: the node checks each external Key Manager server from its own
   * network position (TLS with its minkms's CA, the API key, an encrypt/decrypt round trip) and
   * answers per server. The API key is sent as `{ "$secret": … }` and never comes back. Rejects
   * with a CRD_AGENT_* coded error like every AgentClient call.
   */
  preflightExternalKms (node: NodeRef, req: ExternalKmsPreflightRequest, opts?: { signal?: AbortSignal }): Promise<ExternalKmsPreflightResult>
}
