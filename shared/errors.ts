// The one base of keyroll's coded errors, the shared catalogue (SHR_ codes) and the one error
// handler both daemons install.
//
// Every error that may reach a client is a CodedError: a stable, prefixed code (`AGT_` agent,
// `CRD_` coordinator, `SHR_` shared code), the HTTP status it maps to, and a message that is safe
// to show (it names the problem and what to fix, never a secret value). Each package keeps one
// catalogue, a table code → { status, meaning }, and its error classes take their status from it,
// so a status is written once; docs/errors.md documents every code and a test holds the two equal.
//
// The handler renders every error as `{ code, message, statusCode }`: 4xx messages as written (they
// say what to fix), 5xx as a generic message with the full error in the log. Messages pass through
// the secret-pattern mask first: an error that quotes its input must not echo an API key back.
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { redactText } from './secrets/redact-text.js'
import type { ErrorBody, Problem } from './schemas/errors.js'

/** One entry of a package's catalogue. */
export interface CodeInfo {
  /** The HTTP status the code maps to (for a CLI: 4xx → exit 2). */
  readonly status: number
  /** What it means, for docs/errors.md. */
  readonly meaning: string
}

/** A package's catalogue: every code it raises. */
export type Catalogue<C extends string = string> = { readonly [K in C]: CodeInfo }

/** The base of every coded error. */
export class CodedError<C extends string = string> extends Error {
  /** Stable code, `AGT_`/`CRD_`/`SHR_` prefixed. */
  readonly code: C
  /** HTTP status this error maps to. */
  readonly statusCode: number

  constructor (code: C, statusCode: number, message: string, opts?: { cause?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause })
    this.name = new.target.name
    this.code = code
    this.statusCode = statusCode
  }
}

/**
 * The base class of a package's errors: a CodedError whose status comes from `catalogue`, so a
 * package writes each status once (`class EditError extends catalogueError(EDIT_ERROR_CODES) {}`).
 */
export function catalogueError<C extends string> (catalogue: Catalogue<C>) {
  return class extends CodedError<C> {
    constructor (code: C, message: string, opts?: { cause?: unknown }) {
      super(code, catalogue[code].status, message, opts)
    }
  }
}

/** The SHR_ codes of code both daemons share (the change model, editors, file system and minkms client have their own). */
export const SHARED_CODES = {
  SHR_VALIDATION: { status: 400, meaning: 'a request failed schema validation; `problems` names each field' },
  SHR_BAD_REQUEST: { status: 400, meaning: 'a 4xx error that came without a code of its own' },
  SHR_UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'the body\'s Content-Type is not one the route reads (application/json; the change routes also application/yaml)' },
  SHR_BAD_URL: { status: 400, meaning: 'the request path cannot be read: a bad percent-encoding (a lone `%`, `%zz`, an incomplete UTF-8 sequence) or a path segment longer than 100 characters' },
  SHR_HTTP_EXPECTATION_FAILED: { status: 417, meaning: 'the request sent an `Expect` header other than `100-continue`, the only expectation the servers meet' },
  SHR_INTERNAL: { status: 500, meaning: 'anything unexpected; the server log has the details' },
  SHR_DAEMON_CONFIG_INVALID: { status: 500, meaning: 'a daemon config (agent.yaml, coordinator.yaml) is invalid; the message lists every problem (CLI exit 2)' },
  SHR_DAEMON_CONFIG_UNREADABLE: { status: 500, meaning: 'a daemon config file cannot be read or parsed (CLI exit 2)' },
  SHR_PROCESS_FAILED: { status: 500, meaning: 'a child process (systemctl, journalctl) failed, timed out or was killed; wrapped by the port that ran it' },
  SHR_HTTP_CONNECT_TIMEOUT: { status: 504, meaning: 'TCP connect and TLS handshake took longer than the timeout; nothing was sent' },
  SHR_HTTP_HEADERS_TIMEOUT: { status: 504, meaning: 'the request was sent but no response headers came within the timeout' },
  SHR_HTTP_BODY_TIMEOUT: { status: 504, meaning: 'the response body paused for longer than the timeout' }
} as const satisfies Catalogue

/** A code of {@link SHARED_CODES}. */
export type SharedCode = keyof typeof SHARED_CODES

/** Base of the errors of {@link SHARED_CODES}. */
export class SharedError extends catalogueError(SHARED_CODES) {}

/** A request failed schema validation; the message names each field. */
export class RequestValidationError extends SharedError {
  constructor (detail: string) { super('SHR_VALIDATION', `invalid request: ${detail}`) }
}
/** A 4xx error that came without a code of its own. */
export class BadRequestError extends SharedError {
  constructor (detail: string) { super('SHR_BAD_REQUEST', detail) }
}
/** The body's Content-Type is not one the route reads. */
export class UnsupportedMediaTypeError extends SharedError {
  constructor (contentType: string) {
    super('SHR_UNSUPPORTED_MEDIA_TYPE', `the body's Content-Type ${JSON.stringify(contentType.slice(0, 100))} is not read here; send the body as application/json (the change routes also take application/yaml)`)
  }
}
/** The request path cannot be read (bad percent-encoding, a segment too long). */
export class BadUrlError extends SharedError {
  constructor (detail: string) { super('SHR_BAD_URL', `the request path cannot be read: ${detail}`) }
}
/** An `Expect` header other than 100-continue. */
export class ExpectationFailedError extends SharedError {
  constructor () { super('SHR_HTTP_EXPECTATION_FAILED', 'the only Expect header served is "Expect: 100-continue"; send the request without it') }
}
/** Anything unexpected; the body never says more than this. */
export class InternalError extends SharedError {
  constructor (requestId: string) { super('SHR_INTERNAL', `internal error (request ${requestId}); the server log has the details`) }
}
/** A daemon config (agent.yaml, coordinator.yaml) is invalid; the message lists every problem. */
export class DaemonConfigInvalidError extends SharedError {
  constructor (source: string, problems: string) { super('SHR_DAEMON_CONFIG_INVALID', `invalid ${source}:\n${problems}`) }
}
/** A daemon config file cannot be read or parsed. */
export class DaemonConfigUnreadableError extends SharedError {
  constructor (path: string, reason: string) { super('SHR_DAEMON_CONFIG_UNREADABLE', `cannot read config file ${path}: ${reason}`) }
}

/** A code of one of keyroll's catalogues. */
const OWN_CODE = /^(?:AGT|CRD|SHR)_[A-Z0-9_]+$/

/** An error rendered for a client, with the status to send. */
export interface RenderedError { statusCode: number, body: ErrorBody }

/**
 * Renders `err` for a client and logs it: 5xx with the full error at `error`, 4xx at `info`.
 * Stream routes use it for the `{ error }` line of a stream that already started.
 */
export function renderError (err: unknown, request: FastifyRequest): RenderedError {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as Partial<FastifyError> & { problems?: unknown }
  if (Array.isArray(e.validation)) {
    const problems = validationProblems(e.validation, e.validationContext)
    const v = new RequestValidationError(problems.map(p => `${p.path}: ${p.message}`).join('; '))
    request.log.info({ code: v.code, statusCode: 400, problems }, 'request rejected')
    return { statusCode: 400, body: { code: v.code, message: mask(v.message), statusCode: 400, problems: problems.map(p => ({ path: mask(p.path), message: mask(p.message) })) } }
  }
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode <= 599 ? e.statusCode : 500
  if (status < 500) {
    // Only codes of the catalogues leave the process: a 4xx of a library (fastify's FST_ codes)
    // that no translation knew becomes SHR_BAD_REQUEST, keeping its message.
    const code = typeof e.code === 'string' && OWN_CODE.test(e.code) ? e.code : 'SHR_BAD_REQUEST'
    const problems = asProblems(e.problems)
    request.log.info({ code, statusCode: status }, 'request rejected')
    const body: ErrorBody = { code, message: mask(String(e.message ?? '')), statusCode: status }
    if (problems !== undefined) body.problems = problems.map(p => ({ ...p, path: mask(p.path), message: mask(p.message) }))
    return { statusCode: status, body }
  }
  request.log.error({ err }, 'request failed')
  // A stable code of ours is safe and useful to a client; the message is not (paths, stderr).
  const code = typeof e.code === 'string' && OWN_CODE.test(e.code) ? e.code : 'SHR_INTERNAL'
  return { statusCode: status, body: { code, message: new InternalError(request.id).message, statusCode: status } }
}

/** Options of {@link errorHandlerPlugin}. */
export interface ErrorHandlerOptions {
  /** The 404 error for a route that does not exist (each package has its own code). */
  notFound: (method: string, path: string) => Error
  /** Replaces an error before it is rendered (e.g. fastify's own errors by coded ones); undefined keeps it. */
  translate?: (err: unknown, request: FastifyRequest) => unknown
}

async function errorHandler (app: FastifyInstance, opts: ErrorHandlerOptions): Promise<void> {
  app.setErrorHandler((err, request, reply) => send(reply, renderError(opts.translate?.(err, request) ?? err, request)))
  app.setNotFoundHandler((request, reply) => {
    send(reply, renderError(opts.notFound(request.method, request.url.split('?')[0] ?? ''), request))
  })
}

function send (reply: FastifyReply, r: RenderedError): void {
  reply.code(r.statusCode).type('application/json; charset=utf-8').send(r.body)
}

/**
 * Installs the error and not-found handlers on the instance it is registered on (it is not
 * encapsulated: `skip-override`, what fastify-plugin sets, without the extra dependency).
 */
export const errorHandlerPlugin: FastifyPluginAsync<ErrorHandlerOptions> = Object.assign(errorHandler, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'shared-error-handler'
})

/** Masks API-key and HSM-key lookalikes in text leaving the process. */
function mask (text: string): string {
  return redactText(text, [])
}

interface ValidationIssue { keyword: string, instancePath: string, message?: string, params: Record<string, unknown> }

// Schema errors → one problem per field, named as the client wrote it (`querystring.limit`).
// Handles TypeBox's parameter names and Ajv's, so the handler works with either compiler.
function validationProblems (issues: readonly ValidationIssue[], context: string | undefined): Problem[] {
  const out: Problem[] = []
  for (const i of issues) {
    const at = [context ?? 'request', ...i.instancePath.split('/').slice(1).map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))]
    const names = (v: unknown): string[] => Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []
    if (i.keyword === 'boolean') continue // additionalProperties: false, reported by its own entry
    if (i.keyword === 'additionalProperties') {
      for (const n of [...names(i.params.additionalProperties), ...names(i.params.additionalProperty)]) out.push({ path: [...at, n].join('.'), message: 'unknown field' })
    } else if (i.keyword === 'required') {
      for (const n of [...names(i.params.requiredProperties), ...names(i.params.missingProperty)]) out.push({ path: [...at, n].join('.'), message: 'missing' })
    } else {
      out.push({ path: at.join('.'), message: i.message ?? i.keyword })
    }
  }
  return out.length > 0 ? out : [{ path: context ?? 'request', message: 'does not match the schema' }]
}

function asProblems (v: unknown): Problem[] | undefined {
  if (!Array.isArray(v)) return undefined
  const ok = v.every(p => typeof p === 'object' && p !== null && typeof (p as Problem).path === 'string' && typeof (p as Problem).message === 'string')
  if (!ok) return undefined
  return (v as Problem[]).map(p => ({
    path: p.path,
    message: p.message,
    ...(typeof p.line === 'number' ? { line: p.line } : {}),
    ...(typeof p.column === 'number' ? { column: p.column } : {})
  }))
}
