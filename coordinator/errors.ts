// The coordinator's error catalogue: every CRD_ code with the HTTP status it maps to. The base is
// shared/errors.ts CodedError; docs/errors.md documents every code and a test holds the two equal.
// Add codes here (one line each) as parts of the coordinator need them.
import { catalogueError, type Catalogue } from '../shared/errors.js'

/** Every CRD_ code. */
export const COORDINATOR_CODES = {
  CRD_NOT_FOUND: { status: 404, meaning: 'no such route, cluster, node or rollout' },
  CRD_ROLLOUT_CONFLICT: { status: 409, meaning: 'the cluster already has an active rollout; wait for it, or pause/abort it' },
  CRD_PLAN_HASH_MISMATCH: { status: 409, meaning: 'the plan hash given does not match the plan computed now (a node changed since, or another change); plan again' },
  CRD_STALE_REVISION: { status: 409, meaning: 'the change\'s revision is older than the revision a node is on: agents refuse an older revision, so a plan or rollout of it would change nothing; give the change a revision above every node\'s (the message names the nodes and the lowest revision to use)' },
  CRD_CLUSTER_UNHEALTHY: { status: 409, meaning: 'a node of the cluster is not healthy, so the rollout does not start; the message names the node and why' },
  CRD_ROLLOUT_STATE: { status: 409, meaning: 'the rollout cannot do that in its current state (e.g. resume a finished rollout)' },
  CRD_AGENT_UNREACHABLE: { status: 502, meaning: 'a node\'s agent could not be reached (connect, TLS, a timeout, or the connection lost before the answer was complete)' },
  CRD_AGENT_ERROR: { status: 502, meaning: 'a node\'s agent answered with an error; the message carries its code and message' },
  CRD_AGENT_BAD_ANSWER: { status: 502, meaning: 'a node\'s agent answered something that is not its API (schema mismatch, broken stream)' },
  CRD_MINKMS_UNREACHABLE: { status: 502, meaning: 'a node\'s minkms could not be asked (cluster gate)' },
  CRD_MINKMS_PROBE_FAILED: { status: 502, meaning: 'a node\'s minkms answered a gate probe with an error or a wrong answer (cluster status, client round trip, provisioning); the message says which' },
  CRD_HSM_ADMIN_KEY_REFUSED: { status: 400, meaning: 'the admin API key for the external Key Manager is not a k1:/k2: API key, or the external Key Manager refused it (403): give a root/SysAdmin API key of the external Key Manager; nothing was created' },
  CRD_HSM_EXTERNAL_UNREACHABLE: { status: 502, meaning: 'no server of the external Key Manager could be reached for provisioning (connect, TLS, timeout); the message names each server and why' },
  CRD_HSM_SELF_SEAL: { status: 400, meaning: 'an external server of the HSM migration is one of the cluster\'s own nodes (a cluster sealing its root key with itself); list only the external Key Manager\'s servers' },
  CRD_HSM_WRITE_OUTAGE: { status: 400, meaning: 'an all-at-once phase B restarts every node together, so the cluster accepts no writes, and reads fail, until they are all back; send allowWriteOutage (--allow-write-outage) to accept that outage; nothing was started' },
  CRD_HSM_PROVISION_FAILED: { status: 502, meaning: 'the external Key Manager answered a provisioning step with an error, or holds the identity with another privilege; the message names the step and what to fix' },
  CRD_UNAUTHENTICATED: { status: 401, meaning: 'no bearer token, or an unknown or revoked one' },
  CRD_FORBIDDEN: { status: 403, meaning: 'the token\'s role may not do that (viewer on a write)' },
  CRD_STATE_SEALED: { status: 500, meaning: 'sealed coordinator state is corrupt or was sealed with another key' },
  CRD_STORE_VERSION: { status: 500, meaning: 'the store (keyroll.db) was written by a newer keyroll (its schema version is higher than this one knows); run that version or restore a backup' },
  CRD_STORE_UNREADABLE: { status: 500, meaning: 'the store file cannot be opened as keyroll\'s database (missing, permissions, not a keyroll SQLite file, corrupt)' },
  CRD_CLIENT_CERT_REQUIRED: { status: 401, meaning: 'a boot-slot request came without a client certificate issued by `tls.clientCa`' },
  CRD_TLS_UNREADABLE: { status: 500, meaning: '`tls.cert`, `tls.key` or `tls.clientCa` cannot be read at start (exit 2)' },
  CRD_HTTP_BAD_REQUEST: { status: 400, meaning: 'the HTTP parser refused the request before any route (bad chunking, Content-Length with Transfer-Encoding, NUL in a header, …)' },
  CRD_HTTP_REQUEST_TIMEOUT: { status: 408, meaning: "the client did not send its headers or body within the edge's timeouts (docs/security.md)" },
  CRD_HTTP_HEADERS_TOO_LARGE: { status: 431, meaning: "the request line and headers exceed the parser's limit (16 KiB)" },
  CRD_BODY_TOO_LARGE: { status: 413, meaning: 'the body is larger than the route accepts (a change plus 64 KiB for plans and rollouts, 16 KiB elsewhere)' },
  CRD_BAD_INPUT: { status: 400, meaning: 'a request the schema allows but that cannot be served as sent (a YAML change without `?cluster=`, a token name that is not a name)' },
  CRD_ROOT_KEY_NONE: { status: 404, meaning: 'the cluster\'s root API key did not change (the coordinator adopted none): its root key is the one the operator configured (`minkms.adminKeyFile`)' },
  CRD_ROOT_KEY_HANDED_OVER: { status: 410, meaning: 'the cluster\'s adopted root API key was handed over before (it is handed over once); the message says when: look in the file it was saved to' }
} as const satisfies Catalogue

/** A code of {@link COORDINATOR_CODES}. */
export type CoordinatorCode = keyof typeof COORDINATOR_CODES

/** Base of the coordinator's errors: the status comes from the catalogue. */
export class CoordinatorError extends catalogueError(COORDINATOR_CODES) {}

/** No such route, cluster, node or rollout. */
export class NotFoundError extends CoordinatorError {
  constructor (what: string) { super('CRD_NOT_FOUND', what) }
}
/** No bearer token, or an unknown or revoked one. */
export class UnauthenticatedError extends CoordinatorError {
  constructor (detail: string) { super('CRD_UNAUTHENTICATED', `${detail}; send Authorization: Bearer <token> (keyroll token create)`) }
}
/** The token's role may not do that. */
export class ForbiddenError extends CoordinatorError {
  constructor (detail: string) { super('CRD_FORBIDDEN', detail) }
}
/** A boot-slot request without a verified client certificate. */
export class ClientCertRequiredError extends CoordinatorError {
  constructor () { super('CRD_CLIENT_CERT_REQUIRED', 'boot slots need the agent\'s client certificate, issued by the coordinator\'s tls.clientCa') }
}
/** A TLS file named in the config cannot be read. */
export class TlsUnreadableError extends CoordinatorError {
  constructor (field: string, path: string, reason: string) { super('CRD_TLS_UNREADABLE', `${field}: cannot read ${path} (${reason}); fix the path or the file permissions`) }
}
/** A request that cannot be served as sent. */
export class BadInputError extends CoordinatorError {
  constructor (detail: string) { super('CRD_BAD_INPUT', detail) }
}
/** The HTTP parser refused the request. */
export class HttpBadRequestError extends CoordinatorError {
  constructor (reason: string) { super('CRD_HTTP_BAD_REQUEST', `bad HTTP request: ${reason}`) }
}
/** Headers or body not received within the edge's timeouts. */
export class HttpRequestTimeoutError extends CoordinatorError {
  constructor (detail: string) { super('CRD_HTTP_REQUEST_TIMEOUT', `request not received in time (${detail}); send the whole request at once`) }
}
/** Request line and headers too large. */
export class HttpHeadersTooLargeError extends CoordinatorError {
  constructor (limit: string) { super('CRD_HTTP_HEADERS_TOO_LARGE', `the request line and headers exceed ${limit}`) }
}
/** Body larger than the route accepts. */
export class BodyTooLargeError extends CoordinatorError {
  constructor (path: string, limit: string) { super('CRD_BODY_TOO_LARGE', `the body of ${path} is larger than ${limit}`) }
}
