// What the coordinator asks of one node's keyroll-agent (its HTTPS API, mutual TLS). The rollout
// engine and the routes depend on this interface only; the real implementation speaks HTTP
// (agents/http-agent-client.ts), the fake scripts answers in memory (agents/fake-agent-client.ts).
// Answers are the agent's wire types (shared/schemas), validated against the same schemas.
import type { ChangeSpec, RestartPolicy } from '../../shared/change/schema.js'
import type { AgentStatus } from '../../shared/schemas/agent-status.js'
import type { ApplyEvent, ApplyResult, PlanResult } from '../../shared/schemas/apply.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import type { ExternalKmsPreflightRequest, ExternalKmsPreflightResult } from '../../shared/schemas/preflight.js'
import type { StagedChange } from '../../shared/schemas/staged.js'
import type { Secret } from '../../shared/secrets/secret.js'
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

/**
 * A change staged on a node and committed later (shared/schemas/staged.ts): the rollout engine
 * stages the next node while the current one restarts, the HSM migration's all-at-once phase B
 * stages every node and then commits them together. A port of its own, like AgentPreflightClient;
 * both implementations of AgentClient implement it. Every method rejects with a CRD_AGENT_* coded
 * error like every AgentClient call; the agent's own refusals keep their AGT_* code in it.
 */
export interface AgentStagingClient {
  /**
   * POST /v1/stage: plans `change` under the node's apply lock and keeps it in the agent's memory,
   * replacing any change staged before; writes nothing. Refused like an apply (409 lock held, stale
   * or conflicting revision; 400 invalid result).
   */
  stage (node: NodeRef, change: ChangeSpec, opts?: { signal?: AbortSignal }): Promise<StagedChange>
  /**
   * POST /v1/stage/commit, NDJSON read to its `{ result }` line, as an apply. Refused (409) when
   * nothing or another revision is staged (AGT_NOT_STAGED: the agent restarted, the change
   * expired or was discarded), or when the files or the applied revision changed since it was
   * staged (AGT_STAGED_STALE; the staged change is dropped). The caller then applies the change
   * the ordinary way or gives up.
   */
  commitStaged (node: NodeRef, revision: number, opts?: StreamOptions): Promise<ApplyResult>
  /** DELETE /v1/stage: drops the staged change, if any; answers the revision dropped (undefined: none). */
  discardStaged (node: NodeRef, opts?: { signal?: AbortSignal }): Promise<number | undefined>
}

/** A node's root API key as its agent read it from the current minkms run's banner. */
export interface NodeRootApiKey {
  /** InvocationID of the run whose banner logged it. */
  readonly invocationId: string
  /** Its `h1:` identity (not secret). */
  readonly identity: string
  /** The key: a Secret from the moment it is read, never a plain string in a view. */
  readonly apiKey: Secret
}

/**
 * What the coordinator asks when a cluster's root API key changed (coordinator/gate/
 * root-key-adoption.ts): a port of its own, like AgentPreflightClient, so nothing else depends on
 * the one call that carries a key in clear. Both implementations of AgentClient implement it.
 */
export interface AgentRootKeyClient {
  /**
   * POST /v1/root-api-key: the root API key of the node's current minkms run, from its banner.
   * Rejects with a CRD_AGENT_* coded error like every AgentClient call; a run that logged none
   * (yet) is the agent's AGT_ROOT_KEY_NOT_LOGGED (404).
   */
  rootApiKey (node: NodeRef, opts?: { signal?: AbortSignal }): Promise<NodeRootApiKey>
}
