// The coordinator's error catalogue: every CRD_ code with the HTTP status it maps to. The base is
// shared/errors.ts CodedError; docs/errors.md documents every code and a test holds the two equal.
// Add codes here (one line each) as parts of the coordinator need them.
import { catalogueError, type Catalogue } from '../shared/errors.js'

/** Every CRD_ code. */
export const COORDINATOR_CODES = {
  CRD_NOT_FOUND: { status: 404, meaning: 'no such route, cluster, node or rollout' },
  CRD_ROLLOUT_CONFLICT: { status: 409, meaning: 'the cluster already has an active rollout; wait for it, or pause/abort it' },
  CRD_PLAN_HASH_MISMATCH: { status: 409, meaning: 'the plan hash given does not match the plan computed now (a node changed since, or another change); plan again' },
  CRD_CLUSTER_UNHEALTHY: { status: 409, meaning: 'a node of the cluster is not healthy, so the rollout does not start; the message names the node and why' },
  CRD_ROLLOUT_STATE: { status: 409, meaning: 'the rollout cannot do that in its current state (e.g. resume a finished rollout)' },
  CRD_AGENT_UNREACHABLE: { status: 502, meaning: 'a node\'s agent could not be reached (connect, TLS, a timeout, or the connection lost before the answer was complete)' },
  CRD_AGENT_ERROR: { status: 502, meaning: 'a node\'s agent answered with an error; the message carries its code and message' },
  CRD_AGENT_BAD_ANSWER: { status: 502, meaning: 'a node\'s agent answered something that is not its API (schema mismatch, broken stream)' },
  CRD_MINKMS_UNREACHABLE: { status: 502, meaning: 'a node\'s minkms could not be asked (cluster gate)' },
  CRD_MINKMS_PROBE_FAILED: { status: 502, meaning: 'a node\'s minkms answered a gate probe with an error or a wrong answer (cluster status, client round trip, provisioning); the message says which' },
  CRD_UNAUTHENTICATED: { status: 401, meaning: 'no bearer token, or an unknown or revoked one' },
  CRD_FORBIDDEN: { status: 403, meaning: 'the token\'s role may not do that (viewer on a write)' },
  CRD_STATE_SEALED: { status: 500, meaning: 'sealed coordinator state is corrupt or was sealed with another key' },
  CRD_STORE_VERSION: { status: 500, meaning: 'the store (keyroll.db) was written by a newer keyroll (its schema version is higher than this one knows); run that version or restore a backup' },
  CRD_STORE_UNREADABLE: { status: 500, meaning: 'the store file cannot be opened as keyroll\'s database (missing, permissions, not a keyroll SQLite file, corrupt)' }
} as const satisfies Catalogue

/** A code of {@link COORDINATOR_CODES}. */
export type CoordinatorCode = keyof typeof COORDINATOR_CODES

/** Base of the coordinator's errors: the status comes from the catalogue. */
export class CoordinatorError extends catalogueError(COORDINATOR_CODES) {}
