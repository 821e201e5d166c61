// The real ClusterProbe: minkms itself, asked with the shared minkms client (shared/minkms/) over
// mutual TLS, one node at a time. Each client has exactly one endpoint, the node asked: the
// client's failover between endpoints would otherwise answer for a node from another one.
//
// Who asks what. Health needs no identity. The cluster status is a root command, asked with the
// cluster's admin API key (config `clusters[].minkms.adminKeyFile`), which also provisions. When an
// AdminKeySource is given (gate/root-key-adoption.ts), root calls take their key from it instead:
// the cluster's adopted root key once its root key changed, else the configured one; a root call
// minkms refuses (401/403) asks it to adopt once and, when it adopted another key, is sent once
// more with that key, so no caller has to know the key changed. The
// client round trip uses the probe identity: an API key made here, kept sealed in the
// ProbeKeyStore, of which only the `h1:` identity is sent to minkms; it is an Admin of the probe
// enclave only (an enclave Admin may use the enclave's keys; the enclave holds nothing but the
// probe key), so the probe exercises a real client's path without root rights.
//
// The minkms client takes no AbortSignal: an aborted call rejects at once with the signal's
// reason and its request runs out in the background within the client's timeout.
import { randomBytes } from 'node:crypto'
import { createMinkmsClient, type MinkmsClient } from '../../shared/minkms/client.js'
import { isAlreadyExists, isMinkmsError, isUnreachable } from '../../shared/minkms/errors.js'
import { generateApiKey, parseApiKey } from '../../shared/minkms/keys.js'
import type { ClusterHsmAdmin, ClusterProbe, HsmStatus, MemberView } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { Secret } from '../../shared/secrets/secret.js'
import type { ProbeKeyStore } from './probe-key-store.js'
import type { AdminKeySource } from './root-key-adoption.js'
import { MinkmsProbeError, MinkmsUnreachableProbeError } from './probe-errors.js'

/** Default name of the probe enclave and of the probe key in it. */
export const DEFAULT_PROBE_NAME = 'keyroll-probe'

/** What the probe needs to know about one cluster. */
export interface ProbeCluster {
  name: string
  /** PEM CA bundle of the nodes' minkms server certificates. */
  ca: string | Buffer
  /** An API key allowed to run CLUSTER:STATUS and to create the probe enclave, identity and key. */
  adminApiKey: string
  probeEnclave?: string
  probeKey?: string
}

/** Options of {@link MinkmsClusterProbe}. */
export interface MinkmsClusterProbeOptions {
  clusters: readonly ProbeCluster[]
  keys: ProbeKeyStore
  /** Per-request timeout (connect, headers, body), ms (default 5 000). */
  timeoutMs?: number
  /** Idle keep-alive sockets to minkms are closed after this, ms (the minkms client's default when unset). */
  idleSocketMs?: number
  /** Where root calls take their key (default: each cluster's `adminApiKey`, never another). */
  adminKeys?: AdminKeySource
}

type Who = 'anonymous' | 'admin' | 'probe'

/** minkms as the gate asks it. close() when done. */
export class MinkmsClusterProbe implements ClusterProbe, ClusterHsmAdmin {
  readonly #clusters = new Map<string, ProbeCluster>()
  readonly #keys: ProbeKeyStore
  readonly #timeoutMs: number
  readonly #clients = new Map<string, MinkmsClient>()
  readonly #adminKeys: AdminKeySource | undefined
  readonly #idleSocketMs: number | undefined

  constructor (opts: MinkmsClusterProbeOptions) {
    this.#adminKeys = opts.adminKeys
    this.#idleSocketMs = opts.idleSocketMs
    for (const c of opts.clusters) {
      // Fails here, at start, for a malformed admin key; the message never holds the key.
      parseApiKey(c.adminApiKey)
      this.#clusters.set(c.name, c)
    }
    this.#keys = opts.keys
    this.#timeoutMs = opts.timeoutMs ?? 5_000
  }

  async ready (node: NodeRef, opts: { write?: boolean, signal?: AbortSignal } = {}): Promise<boolean> {
    const client = this.#client(node, 'anonymous', undefined)
    return await this.#ask(node, 'readiness', opts.signal, async () => await client.ready({ write: opts.write === true }))
  }

  async members (via: NodeRef, opts: { signal?: AbortSignal } = {}): Promise<MemberView[]> {
    const status = await this.#root(via, 'cluster status', opts.signal, async (client) => await client.clusterStatus())
    const members: Array<MemberView & { id: number }> = [
      ...Object.entries(status.nodesUp).map(([id, s]) => ({ id: Number(id), endpoint: s.host, up: true })),
      ...Object.entries(status.nodesDown).map(([id, host]) => ({ id: Number(id), endpoint: host, up: false }))
    ]
    return members.sort((a, b) => a.id - b.id).map(({ endpoint, up }) => ({ endpoint, up }))
  }

  // The node's own entry of the cluster status, found by its endpoint as minkms names it (the
  // same matching as `members`): the answer of the node itself, not of another member.
  async hsmStatus (node: NodeRef, opts: { signal?: AbortSignal } = {}): Promise<HsmStatus> {
    const status = await this.#root(node, 'HSM status', opts.signal, async (client) => await client.clusterStatus())
    const own = Object.values(status.nodesUp).find((s) => s.host === node.minkms)
    if (own === undefined) {
      const hosts = [...Object.values(status.nodesUp).map((s) => s.host), ...Object.values(status.nodesDown).map((h) => `${h} (down)`)]
      throw new MinkmsProbeError(node, 'HSM status', `its cluster status has no entry for ${node.minkms} (it lists ${hosts.length === 0 ? 'no node' : hosts.join(', ')})`)
    }
    return { configured: [...own.configuredHsms], sealed: [...own.hsms] }
  }

  async removeHsm (via: NodeRef, name: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#root(via, `CLUSTER:REMOVEHSM ${name}`, opts.signal, async (client) => { await client.removeHsm(name) })
  }

  async clientRoundTrip (node: NodeRef, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const c = this.#cluster(node.cluster)
    const apiKey = await this.#keys.get(c.name)
    if (apiKey === undefined) throw new MinkmsProbeError(node, 'client round trip', `cluster ${c.name} has no probe identity yet; provision it first`)
    const client = this.#client(node, 'probe', apiKey)
    const { enclave, key } = names(c)
    const plaintext = randomBytes(32)
    await this.#ask(node, 'client round trip', opts.signal, async () => {
      const sealed = await client.encrypt(enclave, key, plaintext)
      const opened = await client.decrypt(enclave, key, sealed.ciphertext, { version: sealed.version })
      if (!Buffer.from(opened).equals(plaintext)) throw new MinkmsProbeError(node, 'client round trip', 'decrypt returned another plaintext than was encrypted')
    })
  }

  async provision (cluster: string, via: NodeRef, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const c = this.#cluster(cluster)
    const { enclave, key } = names(c)
    // The key is stored before its identity exists on the cluster: a crash in between leaves a
    // key whose identity the next provision creates, never an identity whose key is lost.
    let apiKey = await this.#keys.get(c.name)
    if (apiKey === undefined) {
      apiKey = generateApiKey().key
      await this.#keys.put(c.name, apiKey)
    }
    const identity = parseApiKey(apiKey).identity
    await this.#root(via, 'provisioning', opts.signal, async (admin) => {
      await existing(admin.createEnclave(enclave))
      await existing(admin.createIdentity(enclave, { identity, privilege: 'Admin', tags: { 'created-by': 'keyroll-coordinator' } }))
      await existing(admin.createKey(enclave, key))
    })
  }

  /**
   * A root call (the cluster status) through `via` with `apiKey`, on a connection of its own that
   * is closed after: resolves when minkms takes the key as root. Root key adoption checks a key
   * with it before adopting it.
   */
  async checkRootKey (via: NodeRef, apiKey: Secret, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const client = createMinkmsClient({ endpoints: [via.minkms], ca: this.#cluster(via.cluster).ca, timeoutMs: this.#timeoutMs, apiKey: apiKey.reveal() })
    try {
      await this.#ask(via, 'root key check', opts.signal, async () => { await client.clusterStatus() })
    } finally {
      await client.close()
    }
  }

  /** Closes every connection. */
  async close (): Promise<void> {
    const clients = [...this.#clients.values()]
    this.#clients.clear()
    await Promise.all(clients.map(async (c) => { await c.close() }))
  }

  #cluster (name: string): ProbeCluster {
    const c = this.#clusters.get(name)
    if (c === undefined) throw new MinkmsProbeError(undefined, 'probe', `cluster ${name} is not configured for the gate`)
    return c
  }

  /** The client of one node for one caller; the probe's key may change (re-provisioned), so it is part of the cache key by identity. */
  #client (node: NodeRef, who: Who, apiKey: string | undefined): MinkmsClient {
    const identity = apiKey === undefined ? '' : parseApiKey(apiKey).identity
    const cacheKey = `${node.cluster}\n${node.minkms}\n${who}\n${identity}`
    let client = this.#clients.get(cacheKey)
    if (client === undefined) {
      client = createMinkmsClient({
        endpoints: [node.minkms],
        ca: this.#cluster(node.cluster).ca,
        timeoutMs: this.#timeoutMs,
        ...(this.#idleSocketMs === undefined ? {} : { idleSocketMs: this.#idleSocketMs }),
        ...(apiKey === undefined ? {} : { apiKey })
      })
      this.#clients.set(cacheKey, client)
    }
    return client
  }

  /** The key of the cluster's root calls now: the AdminKeySource's, else the configured one. */
  async #adminKey (cluster: string): Promise<string> {
    const c = this.#cluster(cluster)
    return this.#adminKeys === undefined ? c.adminApiKey : (await this.#adminKeys.current(cluster)).reveal()
  }

  /**
   * A root call through `via`. Refused as root (401/403) with an AdminKeySource: it is asked once
   * to adopt the cluster's changed key; when it did, the call is sent once more with the new key.
   */
  async #root<T> (via: NodeRef, what: string, signal: AbortSignal | undefined, run: (client: MinkmsClient) => Promise<T>): Promise<T> {
    return await this.#ask(via, what, signal, async () => {
      const first = await this.#adminKey(via.cluster)
      try {
        return await run(this.#client(via, 'admin', first))
      } catch (err) {
        if (this.#adminKeys === undefined || !isRootRefusal(err) || !(await this.#adminKeys.refused(via.cluster))) throw err
        const next = await this.#adminKey(via.cluster)
        if (next === first) throw err
        return await run(this.#client(via, 'admin', next))
      }
    })
  }

  /** Runs one probe, mapping the minkms client's errors to the gate's, and honouring `signal`. */
  async #ask<T> (node: NodeRef, what: string, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted()
    const call = run().catch((err: unknown) => {
      if (err instanceof MinkmsProbeError) throw err
      if (isUnreachable(err)) throw new MinkmsUnreachableProbeError(node, what, err)
      throw new MinkmsProbeError(node, what, err instanceof Error ? err.message : String(err), err)
    })
    if (signal === undefined) return await call
    return await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      call.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
    })
  }
}

/** minkms refused the caller (401, 403): for a root call, the key is not (or no longer) root. */
function isRootRefusal (err: unknown): boolean {
  return isMinkmsError(err) && (err.statusCode === 401 || err.statusCode === 403)
}

function names (c: ProbeCluster): { enclave: string, key: string } {
  return { enclave: c.probeEnclave ?? DEFAULT_PROBE_NAME, key: c.probeKey ?? DEFAULT_PROBE_NAME }
}

/** Resolves when `p` resolves or fails with "already exists" (an enclave, key or identity there before). */
async function existing (p: Promise<void>): Promise<void> {
  try {
    await p
  } catch (err) {
    if (isAlreadyExists(err)) return
    throw err
  }
}
