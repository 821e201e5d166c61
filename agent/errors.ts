// The agent's error catalogue: every AGT_ code with the HTTP status it maps to, and the error
// classes that raise them (the apply engine's, the OS ports', the API's, the CLI's). The base is
// shared/errors.ts CodedError; docs/errors.md documents every code and a test holds the two equal.
// Errors of the OS ports carry the failing command's stderr, so an operator reads systemd's own
// words ("Unit minkms.service not found.") instead of a bare exit code.
import { formatProblems, type Problem } from '../shared/edit/problem.js'
import { catalogueError, type Catalogue } from '../shared/errors.js'

/** Every AGT_ code. */
export const AGENT_CODES = {
  AGT_CHANGE_CONFLICT: { status: 409, meaning: "another apply or rollback holds the node's lock; retry when it finished" },
  AGT_NOT_FOUND: { status: 404, meaning: 'no such route' },
  AGT_NOTHING_TO_ROLL_BACK: { status: 409, meaning: 'rollback asked for, but there is no earlier committed revision' },
  AGT_TLS_UNREADABLE: { status: 500, meaning: '`tls.cert`, `tls.key` or `tls.clientCa` cannot be read at start (CLI exit 2)' },
  AGT_SPEC_UNREADABLE: { status: 400, meaning: '`--spec FILE` cannot be read (CLI exit 2)' },
  AGT_CHANGE_BODY_MISSING: { status: 400, meaning: '`POST /v1/plan`, `/v1/apply` or `/v1/stage` came without a change body' },
  AGT_NOT_STAGED: { status: 409, meaning: '`POST /v1/stage/commit` of a revision that is not staged (nothing staged, another revision staged, expired, discarded, or the agent restarted); stage it again or apply it' },
  AGT_STAGED_STALE: { status: 409, meaning: 'the managed files or the applied revision changed since the change was staged; the staged change is dropped, nothing written; stage it again or apply it' },
  AGT_STALE_REVISION: { status: 409, meaning: 'the change is older than the applied revision' },
  AGT_REVISION_CONFLICT: { status: 409, meaning: 'the revision was applied before with different content' },
  AGT_INVALID_RESULT: { status: 400, meaning: 'the change would produce an invalid config or env file; nothing written; `problems` names the spec field (and line) that caused each' },
  AGT_UNIT_NOT_RESTARTABLE: { status: 409, meaning: 'the change restarts the unit, but systemd cannot be asked or the unit is not loaded (not installed, masked); checked before anything is written (CLI exit 2)' },
  AGT_UNIT_STATUS_FAILED: { status: 502, meaning: '`systemctl show` could not report the unit (systemd unreachable, timeout, bad output)' },
  AGT_UNIT_RESTART_FAILED: { status: 502, meaning: 'systemctl refused or failed to queue the restart job' },
  AGT_UNIT_NOT_FOUND: { status: 500, meaning: 'the configured unit is not known to systemd (agent misconfiguration)' },
  AGT_JOURNAL_READ_FAILED: { status: 502, meaning: 'journalctl could not read the journal or report its cursor' },
  AGT_JOURNAL_FOLLOW_FAILED: { status: 502, meaning: '`journalctl --follow` could not start or ended by itself' },
  AGT_WATCHER_FAILED: { status: 500, meaning: 'the file watcher could not watch a managed file' },
  AGT_STATE_SEALED: { status: 500, meaning: 'sealed agent state is corrupt or was sealed with another agent key' },
  AGT_HTTP_BAD_REQUEST: { status: 400, meaning: 'the HTTP parser refused the request before any route (bad chunking, Content-Length with Transfer-Encoding, NUL in a header, …)' },
  AGT_HTTP_REQUEST_TIMEOUT: { status: 408, meaning: "the client did not send its headers or body within the edge's timeouts (docs/security.md)" },
  AGT_HTTP_HEADERS_TOO_LARGE: { status: 431, meaning: "the request line and headers exceed the parser's limit (16 KiB)" },
  AGT_BODY_TOO_LARGE: { status: 413, meaning: 'the body is larger than the route accepts (1 MiB for plan, apply and stage, 16 KiB elsewhere)' },
  AGT_CLIENT_NOT_ALLOWED: { status: 403, meaning: "the client certificate chains to `tls.clientCa` but names none of `tls.allowedClients` (e.g. a node's own certificate calling another agent)" },
  AGT_FILE_NOT_UTF8: { status: 422, meaning: 'a managed file the change edits is not valid UTF-8 (e.g. Latin-1 comments); it could not be written back byte for byte, so nothing is written; convert it to UTF-8 first' },
  AGT_ROOT_KEY_NOT_LOGGED: { status: 404, meaning: "`POST /v1/root-api-key`: minkms is not running, or its current run has not logged its banner's `API Key` line (yet, or it left the journal's newest entries the agent reads); ask again once minkms is up" }
} as const satisfies Catalogue

/** A code of {@link AGENT_CODES}. */
export type AgentCode = keyof typeof AGENT_CODES

/** Base of the agent's errors: the status comes from the catalogue. */
export class AgentError extends catalogueError(AGENT_CODES) {}

/** Another apply or rollback holds the node's lock. */
export class ChangeConflictError extends AgentError {
  constructor (running: string) { super('AGT_CHANGE_CONFLICT', `another change is in progress on this node (${running}); wait for it to finish`) }
}
/** A client certificate of the CA that `tls.allowedClients` does not name. */
export class ClientNotAllowedError extends AgentError {
  constructor (names: readonly string[]) {
    super('AGT_CLIENT_NOT_ALLOWED', `this agent answers only the clients its tls.allowedClients names; this client certificate names ${names.length === 0 ? 'nothing' : names.join(', ')}`)
  }
}
/** The current minkms run logged no (usable) `API Key` banner line: nothing to hand over. */
export class RootKeyNotLoggedError extends AgentError {
  constructor (detail: string) { super('AGT_ROOT_KEY_NOT_LOGGED', `no root API key to answer: ${detail}`) }
}
/**
 * A managed file the change edits holds bytes that are not UTF-8 (a Latin-1 comment, say). The
 * agent edits text: such bytes would read as U+FFFD and be written back changed, in lines the
 * change never named, and a rollback would restore the changed bytes. Refused before anything.
 */
export class FileNotUtf8Error extends AgentError {
  constructor (readonly path: string, readonly line: number) {
    super('AGT_FILE_NOT_UTF8', `${path} is not valid UTF-8 (first bad byte on line ${line}); the agent would not write it back byte for byte, so nothing was written; convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8) and try again`)
  }
}
/** No such route. */
export class NotFoundError extends AgentError {
  constructor (method: string, path: string) { super('AGT_NOT_FOUND', `no route ${method} ${path}`) }
}
/** A rollback was asked for but there is no earlier committed revision to restore. */
export class NothingToRollBackError extends AgentError {
  constructor () { super('AGT_NOTHING_TO_ROLL_BACK', 'there is no earlier committed revision to roll back to') }
}
/** A TLS file named in the agent config cannot be read. */
export class TlsUnreadableError extends AgentError {
  constructor (field: string, path: string, reason: string) { super('AGT_TLS_UNREADABLE', `${field}: cannot read ${path} (${reason}); fix the path or the file permissions`) }
}
/** A spec file given to the CLI cannot be read. */
export class SpecUnreadableError extends AgentError {
  constructor (path: string, reason: string) { super('AGT_SPEC_UNREADABLE', `cannot read spec file ${path}: ${reason}`) }
}
/** POST /v1/plan or /v1/apply without a body (or with a media type that carries none). */
export class ChangeBodyMissingError extends AgentError {
  constructor () {
    super('AGT_CHANGE_BODY_MISSING', 'send the change as the request body: JSON (Content-Type: application/json) or the YAML spec file (Content-Type: application/yaml)')
  }
}
/** A commit of a revision that is not staged (or no longer: expired, discarded, replaced, agent restarted). */
export class NotStagedError extends AgentError {
  constructor (revision: number, staged: number | undefined) {
    super('AGT_NOT_STAGED', `revision ${revision} is not staged on this node (${staged === undefined ? 'nothing is staged' : `revision ${staged} is`}); ` +
      'a staged change expires, is replaced by the next stage, discarded, and forgotten when the agent restarts: stage it again or apply it')
  }
}
/** The files or the applied revision moved since the change was staged (it is dropped). */
export class StagedStaleError extends AgentError {
  constructor (revision: number, what: string) {
    super('AGT_STAGED_STALE', `revision ${revision} was staged on other files: ${what} since it was staged; the staged change is dropped and nothing was written: stage it again or apply it`)
  }
}
/** A change older than the applied revision. */
export class StaleRevisionError extends AgentError {
  constructor (revision: number, applied: number) {
    super('AGT_STALE_REVISION', `revision ${revision} is older than the applied revision ${applied}; send a newer revision`)
  }
}
/** The applied revision number with different content. */
export class RevisionConflictError extends AgentError {
  constructor (revision: number) {
    super('AGT_REVISION_CONFLICT', `revision ${revision} was already applied with different content; give the new change a new revision`)
  }
}
/** The files the change would produce are invalid (nothing was written). */
export class InvalidResultError extends AgentError {
  constructor (readonly problems: readonly Problem[]) {
    super('AGT_INVALID_RESULT', `the change would produce invalid files; nothing was written (a files.* path and its line are the change spec's, a file path and its line the file's):\n${formatProblems(problems)}`)
  }
}

/** The change needs a restart, but systemd is unreachable or does not know the unit (nothing was written). */
export class UnitNotRestartableError extends AgentError {
  constructor (readonly unit: string, problem: string) {
    super('AGT_UNIT_NOT_RESTARTABLE', `the change restarts ${unit}, which cannot be restarted: ${problem}; nothing was written`)
  }
}

/** A code an OS port raises. */
export type OsErrorCode = Extract<AgentCode, `AGT_UNIT_${string}` | `AGT_JOURNAL_${string}` | 'AGT_WATCHER_FAILED'>

/** An OS port failed. `stderr` holds the tail of the command's stderr when there was one. */
export class OsPortError extends AgentError {
  /** The failing command's stderr (trimmed tail), or ''. */
  readonly stderr: string
  constructor (code: OsErrorCode, message: string, opts: { stderr?: string, cause?: unknown } = {}) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.stderr = opts.stderr ?? ''
  }
}

/** Sealed state that does not open. */
export class SealedBoxError extends AgentError {
  constructor (what: string) { super('AGT_STATE_SEALED', `cannot open sealed state ${what}: corrupt or sealed with another agent key`) }
}

/** The HTTP parser refused a request before any route saw it (bad framing, bad header, …). */
export class HttpBadRequestError extends AgentError {
  constructor (reason: string) { super('AGT_HTTP_BAD_REQUEST', `malformed HTTP request: ${reason}`) }
}
/** A client took longer than the edge allows to send its request (headers or body). */
export class HttpRequestTimeoutError extends AgentError {
  constructor (limit: string) { super('AGT_HTTP_REQUEST_TIMEOUT', `the request was not received in time (${limit}); send it at once`) }
}
/** The request line and headers are larger than the edge accepts. */
export class HttpHeadersTooLargeError extends AgentError {
  constructor (limit: string) { super('AGT_HTTP_HEADERS_TOO_LARGE', `request line and headers exceed ${limit}; shorten the URL or the headers`) }
}
/** A request body larger than its route accepts. */
export class BodyTooLargeError extends AgentError {
  constructor (route: string, limit: string) { super('AGT_BODY_TOO_LARGE', `request body too large: ${route} accepts at most ${limit}`) }
}
