// keyroll's minkms client: the MinkmsApi (api.ts) over the binary /v1/kms protocol, with mutual
// TLS from an API key. Message conversion lives here; HTTP, TLS and failover in transport.ts.
import {
  PRIVILEGE_CODE, type ClusterStatus, type EncryptResult, type EnclaveStatus, type GenerateKeyResult,
  type IdentityStatus, type KeyStatus, type ListOptions, type ListPage, type MinkmsApi, type Privilege,
  type ServerStatus, type VersionInfo
} from './api.js'
import { decodeResponse, encodeRequestFrame, type MessageCommand, type ReadCommand, type RequestOf, type ResponseOf } from './command-messages.js'
import { Command, isClusterCommand } from './commands.js'
import { parseEndpoints } from './endpoint.js'
import { MinkmsProtocolError } from './errors.js'
import { type ApiKey, parseApiKey } from './keys.js'
import { dateFromTimestamp, decodeMessage, msFromDuration } from './messages.js'
import type { MessageInput, ServerStatusResponse, Timestamp } from './message-types.js'
import { MinkmsTransport } from './transport.js'

/** Options of {@link createMinkmsClient}. */
export interface MinkmsClientOptions {
  /** `host:port`, `host` (port 7373) or `https://host:port`; tried in turn on network errors. */
  endpoints: string[]
  /** `k1:`/`k2:` API key (or a parsed one). Without it only /version and health work. */
  apiKey?: string | ApiKey
  /** PEM CA bundle(s) for the server certificates; default: Node's trust store. */
  ca?: string | Buffer | Array<string | Buffer>
  /** Skip server certificate verification. Labs only; never the default. */
  insecureSkipVerify?: boolean
  /** Name to verify the server certificate against (and send as SNI) instead of each host. */
  servername?: string
  /** Per-attempt connect, headers and body timeout in ms (default 10 000). */
  timeoutMs?: number
  /** Idle keep-alive sockets are closed after this, ms (default 4 000; short for a caller that asks many nodes once). */
  idleSocketMs?: number
}

/** Default per-attempt timeout. */
export const DEFAULT_TIMEOUT_MS = 10_000

const PRIVILEGE_BY_CODE = new Map(Object.entries(PRIVILEGE_CODE).map(([name, code]) => [code, name as Privilege]))
const KEY_TYPES: ReadonlySet<string> = new Set(['AES256', 'ChaCha20'])
const PROBE_BODY_LIMIT = 64 * 1024

/** Creates a client. Nothing connects until the first call; call close() when done. */
export function createMinkmsClient (opts: MinkmsClientOptions): MinkmsClient {
  return new MinkmsClient(opts)
}

/** The minkms API over HTTPS. Safe for concurrent use. */
export class MinkmsClient implements MinkmsApi {
  /** The `h1:` identity of the API key: what the server sees as the caller. */
  readonly identity: string | undefined
  readonly #transport: MinkmsTransport

  constructor (opts: MinkmsClientOptions) {
    const apiKey = typeof opts.apiKey === 'string' ? parseApiKey(opts.apiKey) : opts.apiKey
    this.identity = apiKey?.identity
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.#transport = new MinkmsTransport({
      endpoints: parseEndpoints(opts.endpoints),
      timeoutMs,
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.insecureSkipVerify === undefined ? {} : { insecureSkipVerify: opts.insecureSkipVerify }),
      ...(opts.servername === undefined ? {} : { servername: opts.servername }),
      ...(opts.idleSocketMs === undefined ? {} : { idleSocketMs: opts.idleSocketMs })
    })
  }

  /** GET /version, protobuf or JSON. */
  async version (): Promise<VersionInfo> {
    const res = await this.#transport.get('/version', PROBE_BODY_LIMIT)
    if (res.status !== 200) throw MinkmsTransport.errorOfGet(res)
    const type = res.contentType?.split(';')[0]?.trim().toLowerCase()
    if (type === 'application/json') return versionFromJson(res.body)
    if (type === 'application/octet-stream' || type === 'application/x-protobuf' || type === 'application/protobuf') {
      const v = decodeMessage('VersionResponse', res.body)
      return { version: v.version, commit: v.commit, apiVersion: v.apiVersion, host: v.host, fips140: v.fips140 }
    }
    throw new MinkmsProtocolError(`/version answered with unsupported Content-Type ${res.contentType ?? '(none)'}`)
  }

  /** true when /v1/health/live answers 200. */
  async live (): Promise<boolean> {
    return (await this.#transport.get('/v1/health/live', PROBE_BODY_LIMIT)).status === 200
  }

  /** true when /v1/health/ready (`?write` with `write`) answers 200. */
  async ready (opts: { write?: boolean } = {}): Promise<boolean> {
    const path = opts.write === true ? '/v1/health/ready?write' : '/v1/health/ready'
    return (await this.#transport.get(path, PROBE_BODY_LIMIT)).status === 200
  }

  async createEnclave (name: string): Promise<void> {
    await this.#write(Command.EnclaveCreate, '', { name })
  }

  /** ENCLAVE:DELETE (not in MinkmsApi). */
  async deleteEnclave (name: string): Promise<void> {
    await this.#write(Command.EnclaveDelete, '', { name })
  }

  async enclaveStatus (name: string): Promise<EnclaveStatus> {
    return enclaveStatusOf(await this.#read(Command.EnclaveStatus, '', { name }))
  }

  async listEnclaves (opts: ListOptions = {}): Promise<ListPage<EnclaveStatus>> {
    const r = await this.#read(Command.EnclaveList, '', listRequest(opts))
    return { items: r.enclaves.map(enclaveStatusOf), continueAt: r.continueAt }
  }

  async createIdentity (enclave: string, req: { identity: string, privilege: Privilege, isServiceAccount?: boolean, tags?: Record<string, string> }): Promise<void> {
    await this.#write(Command.IdentityCreate, enclave, {
      identity: req.identity, privilege: req.privilege, isServiceAccount: req.isServiceAccount ?? false, tags: req.tags ?? {}
    })
  }

  /** IDENTITY:DELETE (not in MinkmsApi). */
  async deleteIdentity (enclave: string, identity: string): Promise<void> {
    await this.#write(Command.IdentityDelete, enclave, { identity })
  }

  async identityStatus (enclave: string, identity: string): Promise<IdentityStatus> {
    return identityStatusOf(await this.#read(Command.IdentityStatus, enclave, { identity }))
  }

  async listIdentities (enclave: string, opts: ListOptions = {}): Promise<ListPage<IdentityStatus>> {
    const r = await this.#read(Command.IdentityList, enclave, listRequest(opts))
    return { items: r.identities.map(identityStatusOf), continueAt: r.continueAt }
  }

  async createKey (enclave: string, name: string, opts: { type?: 'AES256' | 'ChaCha20', addVersion?: boolean } = {}): Promise<void> {
    await this.#write(Command.KeyCreate, enclave, { name, type: opts.type ?? '', addVersion: opts.addVersion ?? false })
  }

  /** KEY:DELETE (not in MinkmsApi): version 0 is the latest; `allVersions` removes the key. */
  async deleteKey (enclave: string, name: string, opts: { version?: number, allVersions?: boolean } = {}): Promise<void> {
    await this.#write(Command.KeyDelete, enclave, { name, version: opts.version ?? 0, allVersions: opts.allVersions ?? false })
  }

  async keyStatus (enclave: string, name: string, opts: { version?: number } = {}): Promise<KeyStatus> {
    return keyStatusOf(await this.#read(Command.KeyStatus, enclave, { name, version: opts.version ?? 0 }))
  }

  async listKeys (enclave: string, opts: ListOptions = {}): Promise<ListPage<KeyStatus>> {
    const r = await this.#read(Command.KeyList, enclave, listRequest(opts))
    return { items: r.keys.map(keyStatusOf), continueAt: r.continueAt }
  }

  async encrypt (enclave: string, name: string, plaintext: Uint8Array, opts: { version?: number, associatedData?: Uint8Array } = {}): Promise<EncryptResult> {
    const r = await this.#read(Command.KeyEncrypt, enclave, {
      name, plaintext, version: opts.version ?? 0, associatedData: opts.associatedData ?? new Uint8Array()
    })
    return { version: r.version, ciphertext: r.ciphertext }
  }

  async decrypt (enclave: string, name: string, ciphertext: Uint8Array, opts: { version: number, associatedData?: Uint8Array }): Promise<Uint8Array> {
    const r = await this.#read(Command.KeyDecrypt, enclave, {
      name, ciphertext, version: opts.version, associatedData: opts.associatedData ?? new Uint8Array()
    })
    return r.plaintext
  }

  async generateKey (enclave: string, name: string, opts: { version?: number, associatedData?: Uint8Array, length?: number } = {}): Promise<GenerateKeyResult> {
    const r = await this.#read(Command.KeyGenerate, enclave, {
      name, version: opts.version ?? 0, associatedData: opts.associatedData ?? new Uint8Array(), length: opts.length ?? 0
    })
    return { version: r.version, plaintext: r.plaintext, ciphertext: r.ciphertext }
  }

  async clusterStatus (): Promise<ClusterStatus> {
    const r = await this.#read(Command.ClusterStatus, '', {})
    const nodesUp: Record<number, ServerStatus> = {}
    for (const [id, s] of Object.entries(r.nodesUp)) nodesUp[Number(id)] = serverStatusOf(s)
    const nodesDown: Record<number, string> = {}
    for (const [id, host] of Object.entries(r.nodesDown)) nodesDown[Number(id)] = host
    return { nodesUp, nodesDown }
  }

  async addNode (host: string): Promise<void> {
    await this.#write(Command.ClusterAddNode, '', { host })
  }

  /** CLUSTER:REMOVENODE (not in MinkmsApi). */
  async removeNode (host: string, opts: { deleteClusterOnHost?: boolean } = {}): Promise<void> {
    await this.#write(Command.ClusterRemoveNode, '', { host, deleteClusterOnHost: opts.deleteClusterOnHost ?? false })
  }

  async addHsm (name: string, opts: { overwrite?: boolean } = {}): Promise<void> {
    await this.#write(Command.ClusterAddHsm, '', { name, overwrite: opts.overwrite ?? false })
  }

  async removeHsm (name: string): Promise<void> {
    await this.#write(Command.ClusterRemoveHsm, '', { name })
  }

  /**
   * Sends raw payloads of one command as a batch and returns the raw response payloads (one per
   * request frame for reads, none for writes). For commands the typed methods do not cover.
   */
  async send (command: MessageCommand, enclave: string, payloads: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return await this.#transport.command(command, isClusterCommand(command) ? '' : enclave, payloads)
  }

  /** Releases the connection pool. In-flight calls finish; later calls reject. */
  async close (): Promise<void> {
    await this.#transport.close()
  }

  async #write<C extends MessageCommand> (command: C, enclave: string, value: MessageInput<RequestOf<C>>): Promise<void> {
    await this.#transport.command(command, enclave, [encodeRequestFrame(command, value).payload])
  }

  async #read<C extends ReadCommand> (command: C, enclave: string, value: MessageInput<RequestOf<C>>): Promise<ResponseOf<C>> {
    const [payload] = await this.#transport.command(command, enclave, [encodeRequestFrame(command, value).payload])
    return decodeResponse(command, payload ?? new Uint8Array())
  }
}

function listRequest (opts: ListOptions): MessageInput<RequestOf<typeof Command.KeyList>> {
  return { prefix: opts.prefix ?? '', continueAt: opts.continueAt ?? '', limit: opts.limit ?? 0 }
}

function withCreatedAt<T extends object> (base: T, createdAt: Timestamp | undefined): T & { createdAt?: Date } {
  return createdAt === undefined ? base : { ...base, createdAt: dateFromTimestamp(createdAt) }
}

function enclaveStatusOf (r: ResponseOf<typeof Command.EnclaveStatus>): EnclaveStatus {
  return withCreatedAt({ name: r.name, createdBy: r.createdBy }, r.createdAt)
}

function keyStatusOf (r: ResponseOf<typeof Command.KeyStatus>): KeyStatus {
  // The Go SDK rejects any other key type; a server sending one is broken.
  if (!KEY_TYPES.has(r.type)) throw new MinkmsProtocolError(`key type '${r.type}' is not supported`)
  return withCreatedAt({ name: r.name, version: r.version, type: r.type as KeyStatus['type'], createdBy: r.createdBy }, r.createdAt)
}

function identityStatusOf (r: ResponseOf<typeof Command.IdentityStatus>): IdentityStatus {
  const privilege = PRIVILEGE_BY_CODE.get(r.privilege)
  if (privilege === undefined) throw new MinkmsProtocolError(`unknown privilege ${r.privilege} for ${r.identity}`)
  return withCreatedAt({
    identity: r.identity,
    privilege,
    policy: r.policy,
    createdBy: r.createdBy,
    isServiceAccount: r.isServiceAccount,
    serviceAccounts: r.serviceAccounts,
    tags: r.tags
  }, r.createdAt)
}

function serverStatusOf (s: ServerStatusResponse): ServerStatus {
  const nodes: Record<number, string> = {}
  for (const [id, host] of Object.entries(s.nodes)) nodes[Number(id)] = host
  return {
    version: s.version,
    apiVersion: s.apiVersion,
    host: s.host,
    upTimeMs: s.upTime === undefined ? 0 : msFromDuration(s.upTime),
    role: s.role,
    commit: s.commit,
    nodes,
    id: s.id,
    leaderId: s.leaderId,
    hsms: s.hsms,
    configuredHsms: s.configuredHsms
  }
}

function versionFromJson (body: Buffer): VersionInfo {
  let v: Record<string, unknown>
  try {
    v = JSON.parse(body.toString('utf8')) as Record<string, unknown>
  } catch (err) {
    throw new MinkmsProtocolError('/version answered with invalid JSON', { cause: err })
  }
  if (v === null || typeof v !== 'object') throw new MinkmsProtocolError('/version JSON is not an object')
  const str = (k: string): string => typeof v[k] === 'string' ? v[k] : ''
  return { version: str('version'), commit: str('commit'), apiVersion: str('api_version'), host: str('host'), fips140: v.fips140 === true }
}
