// A small pooled HTTPS client on node:https, for the agent's outbound calls (its minkms health
// probe, the coordinator's convergence slots) and the shared minkms client.
//
// Why not undici: the agent runs under `node --jitless` to stay within its idle-memory budget
// (docs/benchmarks.md), and jitless V8 has no WebAssembly, which undici's HTTP parser needs.
// node:https parses with the llhttp built into node, shares the TLS code fastify already loads,
// and costs nothing extra to import.
import { SharedError } from './errors.js'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { Agent, request as httpsRequest } from 'node:https'
import { finished } from 'node:stream/promises'
import type { TLSSocket } from 'node:tls'
import { tlsConnectMaterial } from './tls-context.js'

/** TLS and timing settings; fixed for the client's life (make a new client to change them). */
export interface HttpsClientOptions {
  /** PEM CA bundle(s) for the server certificates; default: Node's trust store. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>
  /** PEM client certificate and key, for mutual TLS. */
  cert?: string | Buffer
  key?: string | Buffer
  /** Name to verify the server certificate against (and send as SNI) instead of the host. */
  servername?: string
  /** false accepts any server certificate (labs only). Default true. */
  rejectUnauthorized?: boolean
  /**
   * Each of: TCP connect + TLS handshake, waiting for the response headers, and any pause in the
   * response body, in ms. Exceeding one fails the request with an {@link HttpTimeoutError}.
   */
  timeoutMs: number
  /**
   * How long an idle keep-alive socket is kept, ms (default 4 000). A caller that asks many hosts
   * once each (a fleet's health) keeps it short: every idle TLS socket holds tens of kB of native
   * memory, and a sweep of a thousand hosts would otherwise keep a thousand of them.
   */
  idleSocketMs?: number
}

/** One request. `origin` is `https://host:port`. */
export interface HttpsRequest {
  origin: string
  path: string
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: Uint8Array | string
  signal?: AbortSignal
}

/** A response whose body has not been read yet: read it to the end or call `discard`. */
export interface HttpsResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  body: IncomingMessage
}

/** Which wait ran out. `connect` happened before anything was sent (safe to retry elsewhere). */
export type HttpTimeoutPhase = 'connect' | 'headers' | 'body'

/** A request that waited longer than `timeoutMs` for one phase (SHR_HTTP_*_TIMEOUT). */
export class HttpTimeoutError extends SharedError {
  readonly phase: HttpTimeoutPhase

  constructor (phase: HttpTimeoutPhase, ms: number) {
    super(`SHR_HTTP_${phase.toUpperCase() as Uppercase<HttpTimeoutPhase>}_TIMEOUT`, `${phase === 'connect' ? 'connect and TLS handshake' : phase} timed out after ${ms} ms`)
    this.phase = phase
  }
}

// Idle keep-alive sockets are dropped after this, below the 5 s that node servers (and Go's
// http.Server, minkms's) keep them: a request never goes out on a socket the server is closing.
export const IDLE_SOCKET_MS = 4000

/** Pooled HTTPS requests with one set of TLS settings. Safe for concurrent use. */
export class HttpsClient {
  readonly #agent: Agent
  readonly #opts: HttpsClientOptions
  readonly #inFlight = new Set<Promise<void>>()
  #closed = false

  constructor (opts: HttpsClientOptions) {
    this.#opts = opts
    this.#agent = new Agent({
      keepAlive: true,
      timeout: opts.idleSocketMs ?? IDLE_SOCKET_MS,
      rejectUnauthorized: opts.rejectUnauthorized !== false,
      // One context for every connection of every client with this material (tls-context.ts).
      ...tlsConnectMaterial({
        minVersion: 'TLSv1.2',
        ...(opts.ca === undefined ? {} : { ca: opts.ca }),
        ...(opts.cert === undefined ? {} : { cert: opts.cert }),
        ...(opts.key === undefined ? {} : { key: opts.key })
      })
    })
  }

  /** Sends a request; resolves with the response once its headers arrived. */
  async request (r: HttpsRequest): Promise<HttpsResponse> {
    if (this.#closed) throw new Error('the https client is closed')
    const url = new URL(r.origin)
    const ms = this.#opts.timeoutMs
    const body = r.body === undefined ? undefined : typeof r.body === 'string' ? Buffer.from(r.body) : r.body
    let settle = (): void => {}
    const done = new Promise<void>((resolve) => { settle = resolve }).then(() => { this.#inFlight.delete(done) })
    this.#inFlight.add(done)

    return await new Promise<HttpsResponse>((resolve, reject) => {
      const req = httpsRequest({
        agent: this.#agent,
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port === '' ? 443 : Number(url.port),
        path: r.path,
        method: r.method,
        headers: { ...r.headers, ...(body === undefined ? {} : { 'content-length': String(body.length) }) },
        ...(this.#opts.servername === undefined ? {} : { servername: this.#opts.servername }),
        ...(r.signal === undefined ? {} : { signal: r.signal })
      })
      let phase: HttpTimeoutPhase = 'connect'
      let response: IncomingMessage | undefined
      // A new socket: connect + handshake must finish within the timeout; a reused one is ready.
      const connectTimer = setTimeout(() => { req.destroy(new HttpTimeoutError('connect', ms)) }, ms)
      const connected = (): void => {
        clearTimeout(connectTimer)
        phase = 'headers'
        // Socket inactivity from here on: no response headers, then no body data, for `ms`.
        req.setTimeout(ms, () => {
          const err = new HttpTimeoutError(phase, ms)
          response?.destroy(err)
          req.destroy(err)
        })
      }
      req.once('socket', (socket: TLSSocket) => {
        // The agent hands out either a fresh socket (still connecting) or an idle, connected one.
        if (req.reusedSocket) connected()
        else socket.once('secureConnect', connected)
      })
      req.once('response', (res) => {
        response = res
        phase = 'body'
        // In flight until the body has been read (or failed): close() waits for that.
        finished(res).then(settle, settle)
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res })
      })
      req.once('error', (err) => {
        clearTimeout(connectTimer)
        settle()
        reject(err)
      })
      req.once('close', () => {
        clearTimeout(connectTimer)
        if (response === undefined) settle()
      })
      req.end(body)
    })
  }

  /** Waits for requests in flight (their bodies read or discarded), then closes every socket. */
  async close (): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#inFlight])
    this.#agent.destroy()
  }
}

/**
 * Reads a response body up to `max` bytes. Beyond it: `cut` returns the first `max` bytes and
 * drops the rest (error and probe bodies); otherwise it throws `tooLarge()`.
 */
export async function readBody (body: IncomingMessage, max: number, cut: boolean, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    size += chunk.length
    if (size > max) {
      body.destroy()
      if (!cut) throw tooLarge()
      return Buffer.concat(chunks, size).subarray(0, max)
    }
  }
  return Buffer.concat(chunks, size)
}

/** Reads and drops a body, so that its socket can serve the next request. */
export async function discard (body: IncomingMessage): Promise<void> {
  // Even a body the parser has complete must be read to its end, or it never ends nor frees
  // its socket.
  body.resume()
  await finished(body)
}
