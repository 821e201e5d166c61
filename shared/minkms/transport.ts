// HTTPS to a set of minkms endpoints with mutual TLS (shared/https-client.ts). Owns the connection pool, the client
// certificate made from the API key, the endpoint failover and the mapping of non-200 answers to
// typed errors. It knows frames but not messages; client.ts builds the API on top.
import { HttpsClient, discard, readBody, type HttpsResponse } from '../https-client.js'
import type { ApiKey } from './keys.js'
import { clientCertificate } from './certificate.js'
import { type CommandCode, commandName, isWriteCommand } from './commands.js'
import { type Endpoint } from './endpoint.js'
import { MAX_ERROR_BODY, errorMessageOf } from './error-body.js'
import {
  type EndpointFailure, MinkmsError, MinkmsProtocolError, MinkmsUnreachableError, InvalidClientConfigError,
  minkmsErrorFrom
} from './errors.js'
import { decodeFrames, encodeCommandFrames } from './frames.js'

/** TLS and timing settings of a transport. */
export interface TransportOptions {
  endpoints: readonly Endpoint[]
  apiKey?: ApiKey
  /** PEM CA bundle(s) that sign the servers' certificates; default: Node's trust store. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>
  /** Accept any server certificate. For labs only. */
  insecureSkipVerify?: boolean
  /** TLS SNI / certificate name to verify instead of the endpoint's host. */
  servername?: string
  /** Connect, headers and body timeout of each attempt, in ms. */
  timeoutMs: number
  /** Idle keep-alive sockets are closed after this, ms (HttpsClient's default when unset). */
  idleSocketMs?: number
  /** Clock for certificate renewal (tests); default Date.now. */
  now?: () => number
}

/** An answer to a GET, body cut at the limit given. */
export interface GetResult { status: number, contentType: string | undefined, body: Buffer }

/** Largest 200 body accepted for a command (lists of many keys stay far below it). */
export const MAX_RESPONSE_BODY = 64 * 1024 * 1024

// Renew the client certificate a week before it expires; long-running coordinators outlive 90 days.
const CERT_RENEW_BEFORE_MS = 7 * 24 * 60 * 60 * 1000

// Network failures that happen before a request can reach the server: retrying them on another
// endpoint is safe even for writes. Anything else (timeouts, resets) may have been applied.
const BEFORE_SEND_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'SHR_HTTP_CONNECT_TIMEOUT'
])
const TLS_VERIFY_CODE = /CERT|SELF_SIGNED|UNABLE_TO|ERR_SSL|ERR_TLS/

interface PoolState { http: HttpsClient, renewAt: number }

/** Sends frames and GETs to the first endpoint that answers. Safe for concurrent use. */
export class MinkmsTransport {
  readonly #opts: TransportOptions
  #state: Promise<PoolState> | undefined
  #preferred = 0
  #closed = false

  constructor (opts: TransportOptions) {
    if (opts.endpoints.length === 0) throw new InvalidClientConfigError('at least one minkms endpoint is required')
    if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) throw new InvalidClientConfigError('timeoutMs must be a positive number')
    this.#opts = opts
  }

  /**
   * POSTs `payloads` as frames of `command` to `/v1/kms/{enclave}` and returns the response
   * payloads: one per request frame for reads, none for writes (their body is not parsed).
   */
  async command (command: CommandCode, enclave: string, payloads: readonly Uint8Array[]): Promise<Uint8Array[]> {
    const body = encodeCommandFrames(command, payloads)
    const path = `/v1/kms/${encodeURIComponent(enclave)}`
    const write = isWriteCommand(command)
    return await this.#failover(!write, async (endpoint, http) => {
      const res = await http.request({
        origin: endpoint.origin,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', accept: 'application/*' },
        body
      })
      if (res.statusCode !== 200) throw await errorOf(res, endpoint)
      if (write) {
        await discard(res.body)
        return []
      }
      // The Go SDK refuses responses without a Content-Length; so do we, to catch emulator drift.
      if (res.headers['content-length'] === undefined) {
        await discard(res.body)
        throw new MinkmsProtocolError(`${commandName(command)} response has no Content-Length`, { host: endpoint.host })
      }
      const frames = decodeFrames(await readBody(res.body, MAX_RESPONSE_BODY, false, tooLarge(MAX_RESPONSE_BODY)))
      const wrong = frames.find(f => f.command !== command)
      if (frames.length !== payloads.length || wrong !== undefined) {
        throw new MinkmsProtocolError(
          `${commandName(command)}: expected ${payloads.length} response frame(s) of the same command, ` +
          `got ${frames.length}${wrong === undefined ? '' : ` including ${commandName(wrong.command)}`}`,
          { host: endpoint.host })
      }
      return frames.map(f => f.payload)
    })
  }

  /** GETs `path`; non-200 answers are returned, not thrown. Reads at most `maxBody` bytes. */
  async get (path: string, maxBody: number, accept = 'application/*'): Promise<GetResult> {
    return await this.#failover(true, async (endpoint, http) => {
      const res = await http.request({ origin: endpoint.origin, path, method: 'GET', headers: { accept } })
      const body = await readBody(res.body, maxBody, true, tooLarge(maxBody))
      return { status: res.statusCode, contentType: headerOf(res.headers, 'content-type'), body }
    })
  }

  /** Throws the typed error for a non-200 GetResult (same decoding as command errors). */
  static errorOfGet (res: GetResult, host?: string): MinkmsError {
    return minkmsErrorFrom(res.status, errorMessageOf(res.contentType, res.body.subarray(0, MAX_ERROR_BODY)), host)
  }

  /** Closes the connection pool; in-flight requests finish first. Later calls reject. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const state = this.#state
    this.#state = undefined
    if (state !== undefined) await (await state).http.close()
  }

  // Tries each endpoint once, starting with the last one that answered. A server answer (any
  // status) or a protocol error ends the search; only network failures move to the next endpoint,
  // and for writes only those that happened before the request could reach the server.
  async #failover<T> (retryAfterSend: boolean, attempt: (e: Endpoint, http: HttpsClient) => Promise<T>): Promise<T> {
    const { endpoints } = this.#opts
    const failures: EndpointFailure[] = []
    // The start is read once: concurrent requests move #preferred while this one is failing over,
    // and reading it per attempt could visit one endpoint twice and skip a working one.
    const start = this.#preferred
    for (let i = 0; i < endpoints.length; i++) {
      const index = (start + i) % endpoints.length
      const endpoint = endpoints[index] as Endpoint
      try {
        const result = await attempt(endpoint, await this.#pool())
        this.#preferred = index
        return result
      } catch (err) {
        if (err instanceof MinkmsError) throw err
        failures.push({ host: endpoint.host, cause: err })
        if (!retryAfterSend && !failedBeforeSend(err)) break
      }
    }
    throw new MinkmsUnreachableError(failures)
  }

  async #pool (): Promise<HttpsClient> {
    if (this.#closed) throw new InvalidClientConfigError('the minkms client is closed')
    const current = this.#state ?? (this.#state = this.#createPool())
    let state: PoolState
    try {
      state = await current
    } catch (err) {
      if (this.#state === current) this.#state = undefined
      throw err
    }
    if ((this.#opts.now ?? Date.now)() < state.renewAt) return state.http
    if (this.#state === current) {
      this.#state = this.#createPool()
      // The old pool finishes its in-flight requests; a failure to close it changes nothing here.
      state.http.close().catch(() => {})
    }
    return (await this.#state).http
  }

  async #createPool (): Promise<PoolState> {
    const { apiKey, ca, insecureSkipVerify, servername, timeoutMs, idleSocketMs } = this.#opts
    const cert = apiKey === undefined ? undefined : await clientCertificate(apiKey, { now: new Date((this.#opts.now ?? Date.now)()) })
    const http = new HttpsClient({
      timeoutMs,
      ...(idleSocketMs === undefined ? {} : { idleSocketMs }),
      rejectUnauthorized: insecureSkipVerify !== true,
      ...(ca === undefined ? {} : { ca }),
      ...(servername === undefined ? {} : { servername }),
      ...(cert === undefined ? {} : { cert: cert.certPem, key: cert.keyPem })
    })
    return { http, renewAt: cert === undefined ? Infinity : cert.notAfter.getTime() - CERT_RENEW_BEFORE_MS }
  }
}

function failedBeforeSend (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && (BEFORE_SEND_CODES.has(code) || TLS_VERIFY_CODE.test(code))
}

function headerOf (headers: HttpsResponse['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

async function errorOf (res: HttpsResponse, endpoint: Endpoint): Promise<MinkmsError> {
  const body = await readBody(res.body, MAX_ERROR_BODY, true, tooLarge(MAX_ERROR_BODY))
  return minkmsErrorFrom(res.statusCode, errorMessageOf(headerOf(res.headers, 'content-type'), body), endpoint.host)
}

function tooLarge (max: number): () => Error {
  return () => new MinkmsProtocolError(`response body exceeds ${max} bytes`)
}
