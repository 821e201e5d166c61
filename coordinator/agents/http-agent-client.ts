// The real AgentClient: a node's keyroll-agent over HTTPS with mutual TLS (the coordinator config's
// `agents`: the CA of the agents' server certificates, and the client certificate and key the
// coordinator shows them).
//
// Why undici and not shared/https-client.ts: that client has one timeout for connect, headers and
// body pauses, which fits short calls but not a stream whose quiet gaps are the agent's heartbeat
// interval (15 s) while a short call should fail much sooner; undici takes the headers and body
// timeouts per request and the connect timeout apart. shared/https-client.ts exists because the
// agent runs under `node --jitless`, where undici's WebAssembly parser cannot run; the coordinator
// does not, and undici is a dependency already.
//
// Every answer is checked against the agent API's schemas (agent-answers.ts). Failures are coded
// (agent-call-errors.ts): unreachable, the agent's own error with its code, or a bad answer.
// Request bodies carry secrets (`{ "$secret": … }`): nothing here logs or quotes one.
import { readFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { Agent, type Dispatcher } from 'undici'
import type { ChangeSpec, RestartPolicy } from '../../shared/change/schema.js'
import { LineTooLongError, lines } from '../../shared/ndjson-lines.js'
import type { AgentStatus } from '../../shared/schemas/agent-status.js'
import type { ApplyResult, PlanResult } from '../../shared/schemas/apply.js'
import type { JournalEntry } from '../../shared/schemas/journal.js'
import type { ExternalKmsPreflightRequest, ExternalKmsPreflightResult } from '../../shared/schemas/preflight.js'
import type { StagedChange } from '../../shared/schemas/staged.js'
import type { AgentClient, AgentPreflightClient, AgentRootKeyClient, AgentStagingClient, NodeRootApiKey, StreamOptions } from '../ports/agent-client.js'
import type { NodeRef } from '../ports/node-ref.js'
import { tlsConnectMaterial } from '../../shared/tls-context.js'
import { parseApiKey } from '../../shared/minkms/keys.js'
import { Secret } from '../../shared/secrets/secret.js'
import { AgentAnsweredError, AgentBadAnswerError, AgentUnreachableError } from './agent-call-errors.js'
import { answers, errorBodyOf, parseJson } from './agent-answers.js'

/** PEM material for mutual TLS with the agents. */
export interface AgentTls {
  /** CA bundle of the agents' server certificates. */
  ca: string | Buffer
  /** The coordinator's client certificate (chain) and its key. */
  cert: string | Buffer
  key: string | Buffer
}

/** Timeouts and bounds; the defaults suit agents on a LAN. */
export interface HttpAgentClientOptions {
  tls: AgentTls
  /** TCP connect and TLS handshake, ms (default 5 000). */
  connectTimeoutMs?: number
  /** A plain call: waiting for the response headers, and any pause in its body, ms (default 30 000). */
  requestTimeoutMs?: number
  /**
   * A stream (apply, rollback, journal follow): waiting for its headers, and the longest quiet gap
   * between two lines, ms (default 45 000). Must exceed the agents' heartbeat interval (15 s), or
   * an idle but healthy stream is taken for a dead one.
   */
  streamIdleMs?: number
  /** Largest answer body or stream line, bytes (default 16 MiB: a plan quotes whole files). */
  maxAnswerBytes?: number
  /**
   * Idle keep-alive connections are closed after this, ms (default and at most 4 000, below the 5 s
   * the agents keep them). Short for a client that asks many agents once each (the health views):
   * every idle TLS connection holds tens of kB of native memory.
   */
  idleConnectionMs?: number
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_STREAM_IDLE_MS = 45_000
export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024
export const IDLE_CONNECTION_MS = 4_000

const NDJSON = 'application/x-ndjson'
const JSON_TYPE = 'application/json'

// Node's error codes of a connection that never came up: nothing was sent.
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT'])
// The server's certificate failed our checks, before the handshake finished.
const CERT_REFUSED = /^(?:ERR_TLS_CERT_ALTNAME_INVALID|CERT_[A-Z_]+|UNABLE_TO_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_SSL_WRONG_VERSION_NUMBER)$/

interface Call {
  method: 'GET' | 'POST' | 'DELETE'
  /** Path below the agent URL, with its query. */
  path: string
  body?: string
  signal?: AbortSignal | undefined
  stream: boolean
  /** Headers/body timeout of this call when longer than the default, ms. */
  timeoutMs?: number
}

/** Reads the files of the coordinator config's `agents` section. */
export async function readAgentTls (files: { ca: string, cert: string, key: string }): Promise<AgentTls> {
  const [ca, cert, key] = await Promise.all([readFile(files.ca), readFile(files.cert), readFile(files.key)])
  return { ca, cert, key }
}

/** Every node's agent through one connection pool. Safe for concurrent use; close() when done. */
export class HttpAgentClient implements AgentClient, AgentPreflightClient, AgentStagingClient, AgentRootKeyClient {
  readonly #dispatcher: Agent
  readonly #requestTimeoutMs: number
  readonly #streamIdleMs: number
  readonly #maxBytes: number

  constructor (opts: HttpAgentClientOptions) {
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.#streamIdleMs = opts.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS
    this.#maxBytes = opts.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES
    this.#dispatcher = new Agent({
      connect: {
        // One context for every connection to every agent (shared/tls-context.ts): made per
        // connection it cost milliseconds of CPU and native memory per agent asked.
        ...tlsConnectMaterial({ ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }),
        rejectUnauthorized: true,
        timeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
      },
      // Below the 5 s the agents keep idle connections: never send on one they are closing.
      keepAliveTimeout: Math.min(opts.idleConnectionMs ?? IDLE_CONNECTION_MS, IDLE_CONNECTION_MS),
      keepAliveMaxTimeout: Math.min(opts.idleConnectionMs ?? IDLE_CONNECTION_MS, IDLE_CONNECTION_MS)
    })
  }

  async status (node: NodeRef, opts: { signal?: AbortSignal } = {}): Promise<AgentStatus> {
    const res = await this.#send(node, { method: 'GET', path: '/v1/status', signal: opts.signal, stream: false })
    return answers.status(node.name, 'the status', await this.#json(node, res, [200], opts.signal))
  }

  async ready (node: NodeRef, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const res = await this.#send(node, { method: 'GET', path: '/health/ready', signal: opts.signal, stream: false })
    return answers.ready(node.name, 'the readiness', await this.#json(node, res, [200, 503], opts.signal)).ok && res.statusCode === 200
  }

  async plan (node: NodeRef, change: ChangeSpec, opts: { signal?: AbortSignal } = {}): Promise<PlanResult> {
    const res = await this.#send(node, { method: 'POST', path: '/v1/plan', body: JSON.stringify(change), signal: opts.signal, stream: false })
    return answers.plan(node.name, 'the plan', await this.#json(node, res, [200], opts.signal))
  }

  async apply (node: NodeRef, change: ChangeSpec, opts: StreamOptions = {}): Promise<ApplyResult> {
    const res = await this.#send(node, { method: 'POST', path: '/v1/apply', body: JSON.stringify(change), signal: opts.signal, stream: true })
    return await this.#transaction(node, res, opts)
  }

  async rollback (node: NodeRef, opts: StreamOptions & { restart?: RestartPolicy } = {}): Promise<ApplyResult> {
    const body = JSON.stringify(opts.restart === undefined ? {} : { restart: opts.restart })
    const res = await this.#send(node, { method: 'POST', path: '/v1/rollback', body, signal: opts.signal, stream: true })
    return await this.#transaction(node, res, opts)
  }

  /** POST /v1/stage: the agent plans and keeps the change; a plain answer (nothing is written, so no stream). */
  async stage (node: NodeRef, change: ChangeSpec, opts: { signal?: AbortSignal } = {}): Promise<StagedChange> {
    const res = await this.#send(node, { method: 'POST', path: '/v1/stage', body: JSON.stringify(change), signal: opts.signal, stream: false })
    return answers.staged(node.name, 'the staged change', await this.#json(node, res, [200], opts.signal))
  }

  /** POST /v1/stage/commit: streamed as an apply; its refusals (AGT_NOT_STAGED, AGT_STAGED_STALE, …) are plain 409s. */
  async commitStaged (node: NodeRef, revision: number, opts: StreamOptions = {}): Promise<ApplyResult> {
    const res = await this.#send(node, { method: 'POST', path: '/v1/stage/commit', body: JSON.stringify({ revision }), signal: opts.signal, stream: true })
    return await this.#transaction(node, res, opts)
  }

  async discardStaged (node: NodeRef, opts: { signal?: AbortSignal } = {}): Promise<number | undefined> {
    const res = await this.#send(node, { method: 'DELETE', path: '/v1/stage', signal: opts.signal, stream: false })
    return answers.discarded(node.name, 'the discard', await this.#json(node, res, [200], opts.signal)).discarded ?? undefined
  }

  /** POST /v1/preflight/external-kms; the API key always goes as `{ "$secret": … }`. */
  async preflightExternalKms (node: NodeRef, req: ExternalKmsPreflightRequest, opts: { signal?: AbortSignal } = {}): Promise<ExternalKmsPreflightResult> {
    const apiKey = typeof req.apiKey === 'string' ? { $secret: req.apiKey } : req.apiKey
    const body = JSON.stringify({ ...req, apiKey })
    // The agent answers once every server is done: up to four minkms calls of timeoutMs each.
    const timeoutMs = Math.max(this.#requestTimeoutMs, 4 * (req.timeoutMs ?? 5_000) + 5_000)
    const res = await this.#send(node, { method: 'POST', path: '/v1/preflight/external-kms', body, signal: opts.signal, stream: false, timeoutMs })
    return answers.preflight(node.name, 'the preflight', await this.#json(node, res, [200], opts.signal))
  }

  /**
   * POST /v1/root-api-key. The key becomes a Secret as soon as the answer is checked; an answer
   * whose key does not parse, or names another identity than the answer says, is a bad answer
   * (the message names neither key nor text).
   */
  async rootApiKey (node: NodeRef, opts: { signal?: AbortSignal } = {}): Promise<NodeRootApiKey> {
    const res = await this.#send(node, { method: 'POST', path: '/v1/root-api-key', body: '{}', signal: opts.signal, stream: false })
    const a = answers.rootApiKey(node.name, 'the root API key', await this.#json(node, res, [200], opts.signal))
    const apiKey = new Secret(a.apiKey.$secret)
    let identity: string
    try {
      identity = parseApiKey(apiKey.reveal()).identity
    } catch {
      throw new AgentBadAnswerError(node.name, 'the root API key it answered is not a valid k1:/k2: API key')
    }
    if (identity !== a.identity) throw new AgentBadAnswerError(node.name, `the root API key it answered has identity ${identity}, not the ${a.identity} it named`)
    return { invocationId: a.invocationId, identity, apiKey }
  }

  /**
   * GET /v1/journal?limit=1: without `after`, the agent answers the newest `limit` entries of the
   * unit (journalctl -n), so this reads one entry, whatever the journal's size.
   */
  async journalCursor (node: NodeRef, opts: { signal?: AbortSignal } = {}): Promise<string | undefined> {
    return (await this.journalTail(node, { limit: 1, ...(opts.signal === undefined ? {} : { signal: opts.signal }) })).at(-1)?.cursor
  }

  /** GET /v1/journal?limit=N: the newest N entries, oldest first. */
  async journalTail (node: NodeRef, opts: { limit: number, signal?: AbortSignal }): Promise<JournalEntry[]> {
    const res = await this.#send(node, { method: 'GET', path: `/v1/journal?limit=${opts.limit}`, signal: opts.signal, stream: false })
    await this.#expectStream(node, res)
    const entries: JournalEntry[] = []
    try {
      await this.#journalLines(node, res, opts.signal, (e) => { entries.push(e) })
    } catch (err) {
      throw err instanceof StreamErrorLine ? err.cause : err
    }
    return entries
  }

  /**
   * GET /v1/journal?follow=1&after=…. A stream that breaks after it started (the connection lost,
   * no line for `streamIdleMs`, the stream ending, the agent's journal follower failing) is
   * reopened once, right away, after the last cursor seen, so no entry is lost or repeated; the
   * reopened stream earns the next reopen by delivering an entry. A stream that cannot be opened,
   * an error status and a bad answer reject at once.
   */
  async followJournal (node: NodeRef, opts: { after?: string, signal: AbortSignal, onEntry: (e: JournalEntry) => void }): Promise<void> {
    const { signal } = opts
    let cursor = opts.after
    let reopened = false
    for (;;) {
      let started = false
      let delivered = false
      let broke: unknown
      try {
        const path = `/v1/journal?follow=1${cursor === undefined ? '' : `&after=${encodeURIComponent(cursor)}`}`
        const res = await this.#send(node, { method: 'GET', path, signal, stream: true })
        await this.#expectStream(node, res)
        started = true
        await this.#journalLines(node, res, signal, (e) => {
          cursor = e.cursor
          delivered = true
          opts.onEntry(e)
        })
        broke = new AgentUnreachableError(node.name, 'the journal stream ended by itself', { sent: true })
      } catch (err) {
        if (signal.aborted) return
        const isBreak = started && (err instanceof AgentUnreachableError || err instanceof StreamErrorLine)
        if (!isBreak) throw err instanceof StreamErrorLine ? err.cause : err
        broke = err instanceof StreamErrorLine ? err.cause : err
      }
      if (signal.aborted) return
      if (delivered) reopened = false
      if (reopened) throw broke
      reopened = true
    }
  }

  /** Closes every connection; calls in flight fail. */
  async close (): Promise<void> {
    await this.#dispatcher.destroy()
  }

  async #send (node: NodeRef, call: Call): Promise<Dispatcher.ResponseData> {
    const base = new URL(node.agentUrl)
    const timeout = call.timeoutMs ?? (call.stream ? this.#streamIdleMs : this.#requestTimeoutMs)
    try {
      return await this.#dispatcher.request({
        origin: base.origin,
        path: `${base.pathname.replace(/\/+$/, '')}${call.path}`,
        method: call.method,
        headers: {
          accept: call.stream ? NDJSON : JSON_TYPE,
          'user-agent': 'keyroll-coordinator',
          ...(call.body === undefined ? {} : { 'content-type': JSON_TYPE })
        },
        ...(call.body === undefined ? {} : { body: call.body }),
        ...(call.signal === undefined ? {} : { signal: call.signal }),
        headersTimeout: timeout,
        bodyTimeout: timeout
      })
    } catch (err) {
      throw transportError(node, err, call.signal)
    }
  }

  /** The JSON body of an answer whose status is one of `ok`; any other status is the agent's error. */
  async #json (node: NodeRef, res: Dispatcher.ResponseData, ok: number[], signal: AbortSignal | undefined): Promise<unknown> {
    const text = await this.#text(node, res, signal)
    if (!ok.includes(res.statusCode)) throw errorOfStatus(node, res.statusCode, text)
    if (!isType(res, JSON_TYPE)) throw new AgentBadAnswerError(node.name, `a ${res.statusCode} answer of type ${String(res.headers['content-type'] ?? '(none)')} instead of ${JSON_TYPE}`)
    return parseJson(node.name, 'the answer', text)
  }

  async #text (node: NodeRef, res: Dispatcher.ResponseData, signal: AbortSignal | undefined): Promise<string> {
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > this.#maxBytes) {
          res.body.destroy()
          throw new AgentBadAnswerError(node.name, `an answer larger than ${this.#maxBytes} bytes`)
        }
        chunks.push(chunk)
      }
    } catch (err) {
      if (err instanceof AgentBadAnswerError) throw err
      throw transportError(node, err, signal)
    }
    return Buffer.concat(chunks, size).toString('utf8')
  }

  /** Throws unless `res` is a 200 NDJSON stream: the agent's error, or a bad answer. */
  async #expectStream (node: NodeRef, res: Dispatcher.ResponseData): Promise<void> {
    if (res.statusCode !== 200) throw errorOfStatus(node, res.statusCode, await this.#text(node, res, undefined))
    if (!isType(res, NDJSON)) {
      await res.body.dump().catch(() => undefined)
      throw new AgentBadAnswerError(node.name, `a stream of type ${String(res.headers['content-type'] ?? '(none)')} instead of ${NDJSON}`)
    }
  }

  /** Each non-empty line of a stream checked by #expectStream, parsed. */
  async * #lines (node: NodeRef, res: Dispatcher.ResponseData, signal: AbortSignal | undefined): AsyncGenerator<{ n: number, value: unknown }> {
    let n = 0
    try {
      for await (const line of lines(res.body as Readable, this.#maxBytes)) {
        n++
        if (line.trim() === '') continue
        yield { n, value: parseJson(node.name, `line ${n} of the stream`, line) }
      }
    } catch (err) {
      if (err instanceof AgentBadAnswerError) throw err
      if (err instanceof LineTooLongError) throw new AgentBadAnswerError(node.name, `line ${n + 1} of the stream is longer than ${this.#maxBytes} bytes`)
      throw transportError(node, err, signal)
    }
  }

  async #transaction (node: NodeRef, res: Dispatcher.ResponseData, opts: StreamOptions): Promise<ApplyResult> {
    await this.#expectStream(node, res)
    let result: ApplyResult | undefined
    for await (const { n, value } of this.#lines(node, res, opts.signal)) {
      const what = `line ${n} of the apply stream`
      const kind = lineKind(value)
      if (kind === 'result') {
        result = answers.resultLine(node.name, what, value).result
      } else if (kind === 'error') {
        throw new AgentAnsweredError(node.name, answers.errorLine(node.name, what, value).error)
      } else if (kind === 'event') {
        const e = answers.event(node.name, what, value)
        if (result === undefined) opts.onEvent?.(e)
      } else if (kind !== 'heartbeat') {
        throw new AgentBadAnswerError(node.name, `${what} is neither an event, a heartbeat, a result nor an error`)
      }
    }
    if (result === undefined) throw new AgentBadAnswerError(node.name, 'the apply stream ended without its result line')
    return result
  }

  /**
   * Reads journal lines to the end of the stream. An `{ error }` line rejects with a
   * StreamErrorLine (the follower's reason to reopen) whose cause is the agent's error.
   */
  async #journalLines (node: NodeRef, res: Dispatcher.ResponseData, signal: AbortSignal | undefined, onEntry: (e: JournalEntry) => void): Promise<void> {
    for await (const { n, value } of this.#lines(node, res, signal)) {
      const what = `line ${n} of the journal stream`
      const kind = lineKind(value)
      if (kind === 'error') throw new StreamErrorLine(new AgentAnsweredError(node.name, answers.errorLine(node.name, what, value).error))
      if (kind === 'heartbeat') continue
      onEntry(answers.journalEntry(node.name, what, value))
    }
  }
}

/** An `{ error }` line ended a stream that had started (cause: the agent's error). */
class StreamErrorLine extends Error {
  declare readonly cause: AgentAnsweredError
  constructor (cause: AgentAnsweredError) {
    super(cause.message, { cause })
  }
}

function lineKind (value: unknown): 'result' | 'error' | 'event' | 'heartbeat' | 'other' {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'other'
  if ('result' in value) return 'result'
  if ('error' in value) return 'error'
  if ('step' in value) return 'event'
  return Object.keys(value).length === 0 ? 'heartbeat' : 'other'
}

function isType (res: Dispatcher.ResponseData, type: string): boolean {
  const header = res.headers['content-type']
  return typeof header === 'string' && header.split(';')[0]?.trim().toLowerCase() === type
}

/** A non-2xx answer: the agent's error when the body is one, a bad answer otherwise. */
function errorOfStatus (node: NodeRef, status: number, text: string): Error {
  const body = errorBodyOf(text)
  if (body !== undefined) return new AgentAnsweredError(node.name, body)
  return new AgentBadAnswerError(node.name, `HTTP ${status} without an error body`)
}

/**
 * What a failed request or body read becomes: the caller's own abort passes through as its
 * reason; anything else from the transport (refused, TLS, timeouts, a lost connection) is
 * unreachable.
 */
function transportError (node: NodeRef, err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted === true) return signal.reason
  if (err instanceof AgentUnreachableError || err instanceof AgentBadAnswerError || err instanceof AgentAnsweredError) return err
  const e = err as { code?: unknown, message?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  const message = typeof e.message === 'string' ? e.message : String(err)
  const refusedCert = CERT_REFUSED.test(code)
  const detail = code === '' ? message : `${message} (${code})`
  return new AgentUnreachableError(node.name, refusedCert ? `TLS: ${detail}` : detail, { sent: !(NOT_SENT.has(code) || refusedCert), cause: err })
}
