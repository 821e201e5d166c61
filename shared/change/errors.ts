// Error catalogue of the change model (stable SHR_ codes with their HTTP status; the base is
// shared/errors.ts CodedError). Every problem
// of a spec is reported at once, each with the field path and, for spec files, the line.
import { catalogueError, type Catalogue } from '../errors.js'
import { formatProblems, type Problem } from '../edit/problem.js'

export type { Problem } from '../edit/problem.js'

/** Every code a ChangeError can carry, with what it means. */
export const CHANGE_ERROR_CODES = {
  SHR_CHANGE_SPEC_SYNTAX: { status: 400, meaning: 'a change spec is not valid YAML/JSON; line and column say where' },
  SHR_CHANGE_INVALID: { status: 400, meaning: 'a change spec breaks the schema or its rules; problems lists each with its path' }
} as const satisfies Catalogue

/** A stable error code of the change model. */
export type ChangeErrorCode = keyof typeof CHANGE_ERROR_CODES

/** Base class of the change model's errors. */
export class ChangeError extends catalogueError(CHANGE_ERROR_CODES) {}

/** A spec text that does not parse. The message never quotes the source (it may hold secrets). */
export class ChangeSpecSyntaxError extends ChangeError {
  /** 1-based line, when known. */
  declare readonly line?: number
  /** 1-based column, when known. */
  declare readonly column?: number
  constructor (reason: string, pos: { line?: number, column?: number } = {}) {
    const where = pos.line === undefined ? '' : ` at line ${pos.line}${pos.column === undefined ? '' : `, column ${pos.column}`}`
    super('SHR_CHANGE_SPEC_SYNTAX', `change spec does not parse${where}: ${reason}`)
    if (pos.line !== undefined) this.line = pos.line
    if (pos.column !== undefined) this.column = pos.column
  }
}

/** A spec that parses but is not a valid change. */
export class ChangeValidationError extends ChangeError {
  /** Every problem, each with its field path and what to do. */
  readonly problems: readonly Problem[]
  constructor (problems: readonly Problem[]) {
    super('SHR_CHANGE_INVALID', `invalid change (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${formatProblems(problems)}`)
    this.problems = problems
  }
}
