// Shared error catalogue (STYLE R9: SHR_ codes, @fastify/error, HTTP status) and the one error
// handler both daemons install. It renders every error as `{ code, message, statusCode }`:
// 4xx messages as written (they say what to fix), 5xx as a generic message with the full error
// in the log. Messages pass through the secret-pattern mask first: an error that quotes its input
// must not echo an API key back.
import createError from '@fastify/error'
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { redactText } from './secrets/redact-text.js'
import type { ErrorBody, Problem } from './schemas/errors.js'

/** A request failed schema validation; the message names each field. */
export const RequestValidationError = createError<[detail: string]>('SHR_VALIDATION', 'invalid request: %s', 400)
/** A 4xx error that came without a code of its own. */
export const BadRequestError = createError<[detail: string]>('SHR_BAD_REQUEST', '%s', 400)
/** Anything unexpected; the body never says more than this. */
export const InternalError = createError<[requestId: string]>('SHR_INTERNAL', 'internal error (request %s); the server log has the details', 500)
/** A daemon config (agent.yaml, coordinator.yaml) is invalid; the message lists every problem. */
export const DaemonConfigInvalidError = createError<[source: string, problems: string]>('SHR_DAEMON_CONFIG_INVALID', 'invalid %s:\n%s', 500)
/** A daemon config file cannot be read or parsed. */
export const DaemonConfigUnreadableError = createError<[path: string, reason: string]>('SHR_DAEMON_CONFIG_UNREADABLE', 'cannot read config file %s: %s', 500)

/** Every SHR_ error constructor defined here (docs/errors.md documents each code). */
export const SHARED_ERRORS = {
  RequestValidationError,
  BadRequestError,
  InternalError,
  DaemonConfigInvalidError,
  DaemonConfigUnreadableError
} as const

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
    return { statusCode: 400, body: { code: v.code, message: mask(v.message), statusCode: 400, problems } }
  }
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode <= 599 ? e.statusCode : 500
  if (status < 500) {
    const code = typeof e.code === 'string' && e.code !== '' ? e.code : BadRequestError('').code
    const problems = asProblems(e.problems)
    request.log.info({ code, statusCode: status }, 'request rejected')
    const body: ErrorBody = { code, message: mask(String(e.message ?? '')), statusCode: status }
    if (problems !== undefined) body.problems = problems.map(p => ({ ...p, message: mask(p.message) }))
    return { statusCode: status, body }
  }
  request.log.error({ err }, 'request failed')
  // A stable code of ours is safe and useful to a client; the message is not (paths, stderr).
  const code = typeof e.code === 'string' && /^(?:AGT|CRD|SHR)_[A-Z0-9_]+$/.test(e.code) ? e.code : InternalError('').code
  return { statusCode: status, body: { code, message: new InternalError(request.id).message, statusCode: status } }
}

/** Options of {@link errorHandlerPlugin}. */
export interface ErrorHandlerOptions {
  /** The 404 error for a route that does not exist (each package has its own code). */
  notFound: (method: string, path: string) => Error
}

async function errorHandler (app: FastifyInstance, opts: ErrorHandlerOptions): Promise<void> {
  app.setErrorHandler((err, request, reply) => send(reply, renderError(err, request)))
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
