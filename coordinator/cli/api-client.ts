// The coordinator's API as the CLI calls it: JSON requests with the bearer token, errors turned
// into ApiError (the server's code, message and problems) or CliError (unreachable, not the API),
// and the NDJSON event stream of a rollout. Built on shared/https-client.ts (node:https, the
// CA from KEYROLL_CA), so no other HTTP stack is loaded.
import { HttpsClient, readBody, type HttpsResponse } from '../../shared/https-client.js'
import type { ErrorBody } from '../../shared/schemas/errors.js'
import type { Connection } from './connection.js'
import { ApiError, CliError } from './errors.js'

const MAX_JSON_BYTES = 64 * 1024 * 1024
const MAX_ERROR_BYTES = 64 * 1024
const MAX_LINE_BYTES = 4 * 1024 * 1024

/** A request body: JSON, or a YAML text sent as it is. */
export type Body = { json: unknown } | { yaml: string }

const TLS_CODES = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE'])

/** The coordinator's API over one connection. */
export class CoordinatorApi {
  readonly #client: HttpsClient
  readonly #conn: Connection
  readonly #prefix: string

  constructor (conn: Connection, timeoutMs: number) {
    this.#conn = conn
    this.#prefix = conn.url.pathname.replace(/\/+$/, '')
    this.#client = new HttpsClient({ timeoutMs, ...(conn.ca === undefined ? {} : { ca: conn.ca }) })
  }

  /** The URL the CLI talks to, for messages. */
  get url (): string {
    return this.#conn.url.href
  }

  /** GET `path` → the JSON answer. */
  async get<T> (path: string): Promise<T> {
    return await this.#json<T>(await this.#send('GET', path))
  }

  /** POST `path` → the JSON answer. */
  async post<T> (path: string, body?: Body): Promise<T> {
    return await this.#json<T>(await this.#send('POST', path, body))
  }

  /**
   * The lines of an NDJSON stream (`GET path`), parsed; ends when the server ends the stream.
   * A stream that breaks rejects with CRD_CLI_UNREACHABLE; a line that is not JSON with
   * CRD_CLI_BAD_ANSWER.
   */
  async * stream (path: string, signal?: AbortSignal): AsyncGenerator<unknown> {
    const res = await this.#send('GET', path, undefined, signal, 'application/x-ndjson')
    if (res.statusCode >= 300) throw await this.#error(res)
    let pending = ''
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        pending += chunk.toString('utf8')
        let nl: number
        while ((nl = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, nl).trim()
          pending = pending.slice(nl + 1)
          if (line !== '') yield parseLine(line)
        }
        if (pending.length > MAX_LINE_BYTES) throw new CliError('CRD_CLI_BAD_ANSWER', `the event stream sent a line longer than ${MAX_LINE_BYTES} bytes`)
      }
    } catch (err) {
      if (err instanceof CliError || signal?.aborted === true) throw err
      throw this.#unreachable(err, 'the event stream broke')
    } finally {
      res.body.destroy()
    }
    if (pending.trim() !== '') yield parseLine(pending.trim())
  }

  async close (): Promise<void> {
    await this.#client.close()
  }

  async #send (method: 'GET' | 'POST', path: string, body?: Body, signal?: AbortSignal, accept = 'application/json'): Promise<HttpsResponse> {
    const headers: Record<string, string> = { accept, authorization: `Bearer ${this.#conn.token}` }
    let payload: string | undefined
    if (body !== undefined && 'json' in body) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body.json)
    } else if (body !== undefined) {
      headers['content-type'] = 'application/yaml'
      payload = body.yaml
    }
    try {
      return await this.#client.request({
        origin: this.#conn.url.origin,
        path: `${this.#prefix}${path}`,
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        ...(signal === undefined ? {} : { signal })
      })
    } catch (err) {
      if (signal?.aborted === true) throw err
      throw this.#unreachable(err)
    }
  }

  async #json<T> (res: HttpsResponse): Promise<T> {
    if (res.statusCode >= 300) throw await this.#error(res)
    let text: string
    try {
      text = (await readBody(res.body, MAX_JSON_BYTES, false, () => new CliError('CRD_CLI_BAD_ANSWER', `the answer is larger than ${MAX_JSON_BYTES} bytes`))).toString('utf8')
    } catch (err) {
      if (err instanceof CliError) throw err
      throw this.#unreachable(err, 'the answer broke off')
    }
    if (res.statusCode === 204 || text === '') return undefined as T
    try {
      return JSON.parse(text) as T
    } catch {
      throw new CliError('CRD_CLI_BAD_ANSWER', `${this.url} answered ${res.statusCode} with a body that is not JSON; is ${this.#conn.urlSource} the coordinator's URL?`)
    }
  }

  async #error (res: HttpsResponse): Promise<Error> {
    const text = (await readBody(res.body, MAX_ERROR_BYTES, true, () => new Error('unreachable')).catch(() => Buffer.alloc(0))).toString('utf8')
    let body: Partial<ErrorBody> | undefined
    try {
      body = JSON.parse(text) as Partial<ErrorBody>
    } catch {}
    const status = res.statusCode
    if (body === undefined || typeof body.code !== 'string' || typeof body.message !== 'string') {
      if (status >= 500) return new CliError('CRD_CLI_BAD_ANSWER', `${this.url} answered ${status} without an error of the coordinator's API (a proxy in between?)`)
      return new ApiError(status === 404 ? 'CRD_NOT_FOUND' : 'SHR_BAD_REQUEST', status, `${this.url} answered ${status}; is ${this.#conn.urlSource} the coordinator's URL?`)
    }
    let message = body.message
    if (status === 401) message += ` (check the token in ${this.#conn.tokenSource}: it may be mistyped, revoked, or for another coordinator)`
    if (status === 403) message += ' (this needs an operator token; keyroll token create --role operator makes one)'
    if (status >= 500) message += `; the coordinator's log has the details (HTTP ${status})`
    return new ApiError(body.code, status, message, Array.isArray(body.problems) ? body.problems : undefined)
  }

  #unreachable (err: unknown, what = 'cannot reach the coordinator'): CliError {
    const e = err as { code?: unknown, message?: unknown }
    const code = typeof e.code === 'string' ? e.code : ''
    const plain: Record<string, string> = { ECONNREFUSED: 'connection refused', ENOTFOUND: 'host not found', EAI_AGAIN: 'host not found' }
    const reason = plain[code] ?? String(e.message ?? err)
    const hint = TLS_CODES.has(code) || /certificate|tls|ssl/i.test(reason)
      ? `check ${this.#conn.caSource ?? 'KEYROLL_CA / --ca'}: it must be the CA that signed the coordinator's certificate (ca.crt of keyroll pki init), and the URL's host must be one of that certificate's names`
      : `check ${this.#conn.urlSource} (the coordinator's address and port) and that keyroll-coordinator is running there`
    return new CliError('CRD_CLI_UNREACHABLE', `${what} at ${this.url}: ${reason}${code !== '' && plain[code] === undefined && !reason.includes(code) ? ` (${code})` : ''}; ${hint}`, { cause: err })
  }
}

function parseLine (line: string): unknown {
  try {
    return JSON.parse(line)
  } catch {
    throw new CliError('CRD_CLI_BAD_ANSWER', 'the event stream sent a line that is not JSON')
  }
}

/** A path with its query string; undefined values are left out. */
export function withQuery (path: string, query: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v))
  const s = q.toString()
  return s === '' ? path : `${path}?${s}`
}
