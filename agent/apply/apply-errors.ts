// Errors of the apply engine that reach a client (AGT_ codes with their HTTP status). The agent's
// error handler renders any error with `code` and `statusCode`.
import { formatProblems, type Problem } from '../../shared/edit/problem.js'

class ApplyError extends Error {
  constructor (readonly code: string, message: string, readonly statusCode: number) {
    super(message)
    this.name = new.target.name
  }
}

/** A change older than the applied revision. */
export class StaleRevisionError extends ApplyError {
  constructor (revision: number, applied: number) {
    super('AGT_STALE_REVISION', `revision ${revision} is older than the applied revision ${applied}; send a newer revision`, 409)
  }
}

/** The applied revision number with different content. */
export class RevisionConflictError extends ApplyError {
  constructor (revision: number) {
    super('AGT_REVISION_CONFLICT', `revision ${revision} was already applied with different content; give the new change a new revision`, 409)
  }
}

/** The files the change would produce are invalid (nothing was written). */
export class InvalidResultError extends ApplyError {
  constructor (readonly problems: readonly Problem[]) {
    super('AGT_INVALID_RESULT', `the change would produce invalid files; nothing was written (a files.* path and its line are the change spec's, a file path and its line the file's):\n${formatProblems(problems)}`, 400)
  }
}

/** Codes defined here, for docs/errors.md. */
export const APPLY_ERROR_CODES = {
  AGT_STALE_REVISION: 'the change is older than the applied revision (409)',
  AGT_REVISION_CONFLICT: 'the revision was applied before with different content (409)',
  AGT_INVALID_RESULT: 'the change would produce an invalid config or env file; nothing written (400)'
} as const
