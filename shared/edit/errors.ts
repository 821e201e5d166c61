// Error catalogue of the file editors and validators (stable SHR_ codes with their HTTP status;
// the base is shared/errors.ts CodedError).
// Messages name the path, line and column of the problem and never contain a file's values, which
// may be secrets (an API key on the line that failed to parse).
import { catalogueError, type Catalogue } from '../errors.js'

/** Every code an EditError can carry, with what it means. */
export const EDIT_ERROR_CODES = {
  SHR_EDIT_INVALID_PATH: { status: 400, meaning: 'a dotted config path is malformed' },
  SHR_YAML_PARSE: { status: 400, meaning: 'a YAML text does not parse; line and column say where' },
  SHR_YAML_MULTIPLE_DOCUMENTS: { status: 400, meaning: 'a YAML file holds more than one document' },
  SHR_YAML_NOT_A_MAPPING: { status: 400, meaning: 'the YAML document root is not a mapping' },
  SHR_YAML_PATH_BLOCKED: { status: 409, meaning: 'a config path runs through a scalar, sequence or alias in the current file' },
  SHR_YAML_UNSUPPORTED: { status: 422, meaning: 'the file uses YAML the editor will not touch (anchors on the path, explicit keys)' },
  SHR_YAML_EDIT_MISMATCH: { status: 500, meaning: 'internal: the edited YAML does not hold what the change asked for; nothing is written' },
  SHR_ENV_INVALID_KEY: { status: 400, meaning: 'an environment variable name is not [A-Za-z_][A-Za-z0-9_]*' },
  SHR_ENV_INVALID_VALUE: { status: 400, meaning: 'an environment variable value holds NUL, CR or LF' },
  SHR_ENV_EDIT_MISMATCH: { status: 409, meaning: 'the edited env file would not read back as intended (e.g. an unterminated quote)' }
} as const satisfies Catalogue

/** A stable error code of the editors. */
export type EditErrorCode = keyof typeof EDIT_ERROR_CODES

/** Base class of every error the editors and validators throw. */
export class EditError extends catalogueError(EDIT_ERROR_CODES) {}

/** A dotted path that does not follow the path syntax (see dotted-path.ts). */
export class InvalidPathError extends EditError {
  /** The offending path. Paths are field names, never values, so it is safe to show. */
  readonly path: string
  constructor (path: string, reason: string) {
    super('SHR_EDIT_INVALID_PATH', `invalid path ${JSON.stringify(path)}: ${reason}`)
    this.path = path
  }
}

/** A YAML text that does not parse. */
export class YamlParseError extends EditError {
  /** 1-based line of the first error. */
  readonly line: number
  /** 1-based column of the first error. */
  readonly column: number
  /** What is wrong, without the position. */
  readonly reason: string
  constructor (reason: string, line: number, column: number) {
    super('SHR_YAML_PARSE', `YAML does not parse at line ${line}, column ${column}: ${reason}`)
    this.line = line
    this.column = column
    this.reason = reason
  }
}

/** A YAML file with several documents (`---` between them). */
export class YamlMultipleDocumentsError extends EditError {
  /** 1-based line where the second document starts. */
  readonly line: number
  constructor (count: number, line: number) {
    super('SHR_YAML_MULTIPLE_DOCUMENTS', `YAML file holds ${count} documents (the second starts at line ${line}); a config file must hold exactly one`)
    this.line = line
  }
}

/** A YAML document whose root is a scalar or a sequence. */
export class YamlNotAMappingError extends EditError {
  constructor (found: string) {
    super('SHR_YAML_NOT_A_MAPPING', `the YAML document root is ${found}; a config file must be a mapping`)
  }
}

/** A path that would have to descend into a scalar, a sequence or an alias of the current file. */
export class YamlPathBlockedError extends EditError {
  /** The dotted path of the change. */
  readonly path: string
  /** The dotted prefix that ends at the blocking node. */
  readonly at: string
  constructor (path: string, at: string, found: string, line: number) {
    super('SHR_YAML_PATH_BLOCKED', `cannot edit ${path}: ${at} is ${found} (line ${line}), not a mapping; set ${at} itself to replace it`)
    this.path = path
    this.at = at
  }
}

/** YAML the editor refuses to touch, with the reason and line. */
export class YamlUnsupportedError extends EditError {
  constructor (path: string, reason: string, line: number) {
    super('SHR_YAML_UNSUPPORTED', `cannot edit ${path}: ${reason} (line ${line}); edit this part by hand`)
  }
}

/** Internal: the edited text did not read back as intended. Nothing must be written. */
export class YamlEditMismatchError extends EditError {
  constructor (what: string) {
    super('SHR_YAML_EDIT_MISMATCH', `YAML edit self-check failed: ${what}`)
  }
}

/** An environment variable name systemd would reject. */
export class InvalidEnvKeyError extends EditError {
  constructor (key: string) {
    super('SHR_ENV_INVALID_KEY', `invalid environment variable name ${JSON.stringify(key)}: use letters, digits and _, not starting with a digit`)
  }
}

/** An environment variable value an EnvironmentFile cannot hold on one line. */
export class InvalidEnvValueError extends EditError {
  constructor (key: string, reason: string) {
    super('SHR_ENV_INVALID_VALUE', `invalid value for ${key}: ${reason}`)
  }
}

/** The edited env file would not read back as intended; says which key and why. */
export class EnvEditMismatchError extends EditError {
  constructor (what: string) {
    super('SHR_ENV_EDIT_MISMATCH', `env file edit refused: ${what}`)
  }
}
