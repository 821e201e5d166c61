// Error catalogue of the change model (stable SHR_ codes with their HTTP status; the base is
// shared/errors.ts CodedError). Every problem
// of a spec is reported at once, each with the field path and, for spec files, the line.
import { catalogueError, type Catalogue } from '../errors.js'
import { formatProblems, type Problem } from '../edit/problem.js'

export type { Problem } from '../edit/problem.js'

/** Every code a ChangeError can carry, with what it means. */
export const CHANGE_ERROR_CODES = {
  SHR_CHANGE_SPEC_SYNTAX: { status: 400, meaning: 'a change spec is not valid YAML/JSON; line and column say where' },
  SHR_CHANGE_INVALID: { status: 400, meaning: 'a change spec breaks the schema or its rules; problems lists each with its path' },
  SHR_CHANGE_TOO_LARGE: { status: 413, meaning: 'a change exceeds a size limit (keys, string length, values, bytes); the message names the limit' },
  SHR_CHANGE_TOO_DEEP: { status: 400, meaning: 'a change nests values deeper than the limit; the message names the limit' },
  SHR_CHANGE_YAML_ALIASES: { status: 400, meaning: 'a YAML change spec expands more aliases than allowed (an alias bomb)' }
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

/** A change over one of the size limits of limits.ts; the message names the limit and the count. */
export class ChangeTooLargeError extends ChangeError {
  /** Which limit, e.g. `keys`. */
  readonly limit: string
  constructor (limit: string, message: string) {
    super('SHR_CHANGE_TOO_LARGE', message)
    this.limit = limit
  }
}

/** A change nesting values deeper than the limit (checked before anything recurses into it). */
export class ChangeTooDeepError extends ChangeError {
  constructor (maxDepth: number) {
    super('SHR_CHANGE_TOO_DEEP', `change nests values more than ${maxDepth} levels deep; a minkms config needs far fewer (limit ${maxDepth})`)
  }
}

/** A YAML spec whose aliases would expand beyond the limit (billion laughs). */
export class ChangeYamlAliasesError extends ChangeError {
  constructor (maxAliases: number) {
    super('SHR_CHANGE_YAML_ALIASES', `change spec uses aliases (*name) that expand too far; at most ${maxAliases} alias expansions are allowed: write the values out`)
  }
}
