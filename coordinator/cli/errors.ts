// The errors of the `keyroll` CLI itself (those the coordinator answers keep the server's code):
// flags and files it cannot use (exit 2), and a coordinator it cannot reach or understand (exit 1).
// Messages name the setting to check (KEYROLL_URL, KEYROLL_CA, KEYROLL_TOKEN_FILE) and never
// quote the token.
import { CodedError, catalogueError, type Catalogue } from '../../shared/errors.js'
import type { Problem } from '../../shared/schemas/errors.js'

/** Every CRD_CLI_ code. */
export const CLI_CODES = {
  CRD_CLI_USAGE: { status: 400, meaning: 'a flag or setting of the keyroll CLI is missing or invalid (KEYROLL_URL, --plan-hash, --max-parallel …); the message names it' },
  CRD_CLI_FILE_UNREADABLE: { status: 400, meaning: 'a file named on the keyroll command line (change spec, CA, token file) cannot be read' },
  CRD_CLI_UNREACHABLE: { status: 503, meaning: 'the coordinator could not be reached (connect, TLS, timeout); the message says what to check' },
  CRD_CLI_BAD_ANSWER: { status: 502, meaning: 'the coordinator answered something that is not its API (a proxy\'s page, a broken body)' },
  CRD_CLI_STORE_UNAVAILABLE: { status: 500, meaning: 'keyroll token create / audit verify could not open the coordinator\'s store in --state-dir' }
} as const satisfies Catalogue

/** A code of {@link CLI_CODES}. */
export type CliCode = keyof typeof CLI_CODES

/** Base of the CLI's own errors. */
export class CliError extends catalogueError(CLI_CODES) {}

/** An error the coordinator answered: its code, status, message and problems as sent. */
export class ApiError extends CodedError {
  readonly problems: readonly Problem[] | undefined

  constructor (code: string, statusCode: number, message: string, problems?: readonly Problem[]) {
    super(code, statusCode, message)
    this.problems = problems
  }
}
