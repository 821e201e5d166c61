// The agent's error catalogue (STYLE R9): stable AGT_ codes, each with the HTTP status it maps
// to. The unit and journal codes (AGT_UNIT_*, AGT_JOURNAL_*) live with the OS ports in
// agent/os/errors.ts; docs/errors.md documents every code of every catalogue and a test checks it.
import createError from '@fastify/error'

/** Another apply or rollback holds the node's lock. */
export const ChangeConflictError = createError<[running: string]>(
  'AGT_CHANGE_CONFLICT', 'another change is in progress on this node (%s); wait for it to finish', 409)
/** A change the core refused before touching anything (the message names the problem). */
export const BadChangeError = createError<[reason: string]>('AGT_BAD_CHANGE', 'invalid change: %s', 400)
/** A change names a file outside the agent's allowlist (`files` in the agent config). */
export const PathNotManagedError = createError<[path: string, managed: string]>(
  'AGT_PATH_NOT_MANAGED', '%s is not a file this agent manages; managed files: %s', 400)
/** No such route. */
export const NotFoundError = createError<[method: string, path: string]>('AGT_NOT_FOUND', 'no route %s %s', 404)
/** A rollback was asked for but there is no earlier committed revision to restore. */
export const NothingToRollBackError = createError('AGT_NOTHING_TO_ROLL_BACK', 'there is no earlier committed revision to roll back to', 409)
/** A TLS file named in the agent config cannot be read. */
export const TlsUnreadableError = createError<[field: string, path: string, reason: string]>(
  'AGT_TLS_UNREADABLE', '%s: cannot read %s (%s); fix the path or the file permissions', 500)
/** A spec file given to the CLI cannot be read. */
export const SpecUnreadableError = createError<[path: string, reason: string]>(
  'AGT_SPEC_UNREADABLE', 'cannot read spec file %s: %s', 400)

/** POST /v1/plan or /v1/apply without a body (or with a media type that carries none). */
export const ChangeBodyMissingError = createError('AGT_CHANGE_BODY_MISSING',
  'send the change as the request body: JSON (Content-Type: application/json) or the YAML spec file (Content-Type: application/yaml)', 400)

/** Every error constructor defined here (docs/errors.md documents each code). */
export const AGENT_ERRORS = {
  ChangeConflictError,
  BadChangeError,
  PathNotManagedError,
  NotFoundError,
  NothingToRollBackError,
  TlsUnreadableError,
  SpecUnreadableError,
  ChangeBodyMissingError
} as const
