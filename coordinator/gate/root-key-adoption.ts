// Adopting a cluster's root API key that changed. If minkms derives its root API key from the HSM
// it unsealed with, removing the local HSM (the HSM migration's phase B, done on every node at
// once) gives the cluster another root key, and the coordinator's root calls (cluster status,
// CLUSTER:ADDHSM/REMOVEHSM, provisioning the probe identity) fail with the key it was configured
// with (`clusters[].minkms.adminKeyFile`, in a lab the root key itself). Each node logs its root
// key at start in its banner (`API Key k1:…`); the agents serve that line with the key in its safe
// form (`k1:*** (h1:…)`), so the coordinator sees which identity every node runs with, and asks one
// agent for the key itself only when the nodes agree on a new one.
//
// adopt(cluster):
//  - reads each node's current run (its status) and that run's banner identity (its journal tail,
//    read as identity-change.ts reads it);
//  - nodes that disagree, or one without a banner: nothing changes, the answer says which;
//  - every node on the identity the coordinator uses now: nothing changes;
//  - every node on the configured key's identity again (a rollback): the adopted key is dropped;
//  - every node on another identity while the key in use still works as root (the configured key
//    may be a SysAdmin identity's, which a new root key does not touch): nothing changes;
//  - otherwise (the key in use is refused): back to the configured key when that works, else the
//    key is asked of one agent (POST /v1/root-api-key), checked to have that identity and to work
//    (a root call through that node), stored sealed, and used for the cluster's root calls from
//    then on.
// It answers identities only, never logs or emits a key, and runs once at a time per cluster.
//
// It is also the probe's AdminKeySource: the key of a cluster's root calls (the adopted one, else
// the configured one), and what to do when minkms refuses that key (adopt once; retry if changed).
import type { Logger } from '../../shared/logger.js'
import type { Clock } from '../../shared/clock.js'
import { parseApiKey } from '../../shared/minkms/keys.js'
import type { Secret } from '../../shared/secrets/secret.js'
import { IDENTITY_JOURNAL_TAIL, identitiesByRun, shortIdentity } from '../hsm/identity-change.js'
import type { AgentClient, AgentRootKeyClient } from '../ports/agent-client.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { RolloutStore } from '../store/rollout-store.js'
import type { RootKeyStore } from '../store/root-key-store.js'

/** Where the probe gets the API key of a cluster's root calls. */
export interface AdminKeySource {
  /** The key for root calls of `cluster` now. */
  current (cluster: string): Promise<Secret>
  /** minkms refused that key as root: true when another key was adopted (retry once with it). */
  refused (cluster: string): Promise<boolean>
}

/** What adopt() found and did: identities only. */
export interface RootKeyAdoptionResult {
  cluster: string
  /** True when the key of the cluster's root calls changed (adopted, or dropped back to the configured one). */
  changed: boolean
  /** The identity the coordinator used before. */
  from: string
  /** The identity it uses now. */
  to: string
  /** Why nothing changed, when it did not and the nodes did not simply agree with it. */
  reason?: string
  /** The banner identity each node showed (null: none found, with why in `reason`). */
  seen: Record<string, string | null>
}

/** Options of {@link RootKeyAdoption}. */
export interface RootKeyAdoptionOptions {
  agents: Pick<AgentClient, 'status' | 'journalTail'> & AgentRootKeyClient
  store: RootKeyStore
  /** The cluster's configured admin key (`clusters[].minkms.adminKeyFile`). */
  configured: (cluster: string) => Secret
  /** The cluster's nodes. */
  nodes: (cluster: string) => readonly NodeRef[]
  /** A root call through `via` with `apiKey` (the cluster status): resolves when minkms takes it as root. */
  verify: (via: NodeRef, apiKey: Secret, opts: { signal?: AbortSignal }) => Promise<void>
  clock: Clock
  log?: Logger
  /** The audit log: each adoption and drop is recorded as `system` (identities only). */
  audit?: Pick<RolloutStore, 'appendAudit'>
  /** After an adoption that changed nothing, how long refused() answers false without asking the nodes again, ms (default 2000). */
  quietMs?: number
}

/** Adopts a cluster's changed root key; the probe's AdminKeySource. */
export class RootKeyAdoption implements AdminKeySource {
  readonly #o: RootKeyAdoptionOptions
  readonly #running = new Map<string, Promise<RootKeyAdoptionResult>>()
  readonly #lastUnchanged = new Map<string, number>()

  constructor (opts: RootKeyAdoptionOptions) {
    this.#o = opts
  }

  async current (cluster: string): Promise<Secret> {
    return (await this.#o.store.get(cluster))?.apiKey ?? this.#o.configured(cluster)
  }

  async refused (cluster: string): Promise<boolean> {
    const quiet = this.#lastUnchanged.get(cluster)
    if (quiet !== undefined && this.#o.clock.monotonic() - quiet < (this.#o.quietMs ?? 2000) && !this.#running.has(cluster)) return false
    const r = await this.adopt(cluster)
    return r.changed
  }

  /** Looks at the nodes' banners and adopts (or drops) the cluster's root key; one run at a time per cluster. */
  async adopt (cluster: string, opts: { nodes?: readonly NodeRef[], signal?: AbortSignal } = {}): Promise<RootKeyAdoptionResult> {
    const running = this.#running.get(cluster)
    if (running !== undefined) return await running
    const run = this.#adopt(cluster, opts).finally(() => { this.#running.delete(cluster) })
    this.#running.set(cluster, run)
    const r = await run
    if (r.changed) this.#lastUnchanged.delete(cluster)
    else this.#lastUnchanged.set(cluster, this.#o.clock.monotonic())
    return r
  }

  async #adopt (cluster: string, opts: { nodes?: readonly NodeRef[], signal?: AbortSignal }): Promise<RootKeyAdoptionResult> {
    const nodes = opts.nodes ?? this.#o.nodes(cluster)
    const signal = opts.signal
    const adopted = await this.#o.store.get(cluster)
    const configured = parseApiKey(this.#o.configured(cluster).reveal()).identity
    const from = adopted?.identity ?? configured
    const unchanged = (reason: string | undefined, seen: Record<string, string | null>): RootKeyAdoptionResult =>
      ({ cluster, changed: false, from, to: from, ...(reason === undefined ? {} : { reason }), seen })

    const readings = await Promise.all(nodes.map(async (n) => ({ node: n, ...(await this.#bannerIdentity(n, signal)) })))
    const seen = Object.fromEntries(readings.map((r) => [r.node.name, r.identity ?? null]))
    const missing = readings.filter((r) => r.identity === undefined)
    if (nodes.length === 0) return unchanged(`cluster ${cluster} has no nodes`, seen)
    if (missing.length > 0) return unchanged(`no root identity from ${missing.map((r) => `${r.node.name} (${r.why ?? 'unknown'})`).join(', ')}; nothing changed`, seen)
    const identities = [...new Set(readings.map((r) => r.identity as string))]
    if (identities.length > 1) {
      return unchanged(`the nodes disagree on their root identity (${readings.map((r) => `${r.node.name} ${shortIdentity(r.identity as string)}`).join(', ')}); nothing changed`, seen)
    }
    const to = identities[0] as string
    if (to === from) return unchanged(undefined, seen)
    const via = nodes[0] as NodeRef
    if (to === configured) {
      // Back on the configured key (phase B rolled back): the adopted one is no longer root.
      await this.#o.store.drop(cluster)
      await this.#audit('cluster.root-key.drop', cluster, { from, to, why: 'every node is back on the configured key' })
      this.#o.log?.info({ cluster, from, to }, 'the cluster is back on its configured root API key; the adopted one was dropped')
      return { cluster, changed: true, from, to, seen }
    }
    // The configured key need not be the root key itself (a SysAdmin identity's key stays valid
    // when the root key changes): a key that still works is kept, and root's is never taken
    // without need.
    const inUse = adopted?.apiKey ?? this.#o.configured(cluster)
    if (await this.#works(via, inUse, signal)) return unchanged(undefined, seen)
    if (adopted !== undefined && await this.#works(via, this.#o.configured(cluster), signal)) {
      await this.#o.store.drop(cluster)
      await this.#audit('cluster.root-key.drop', cluster, { from, to: configured, why: 'the adopted key no longer works; the configured one does' })
      this.#o.log?.info({ cluster, from, to: configured }, 'the adopted root API key no longer works but the configured one does; the adopted one was dropped')
      return { cluster, changed: true, from, to: configured, seen }
    }
    const refusals: string[] = []
    for (const node of nodes) {
      signal?.throwIfAborted()
      let key: Secret
      try {
        const answer = await this.#o.agents.rootApiKey(node, signal === undefined ? {} : { signal })
        if (answer.identity !== to) {
          refusals.push(`${node.name} answered a key of identity ${shortIdentity(answer.identity)}, not the ${shortIdentity(to)} every banner shows`)
          continue
        }
        key = answer.apiKey
        await this.#o.verify(node, key, signal === undefined ? {} : { signal })
      } catch (err) {
        if (signal?.aborted === true) throw err
        refusals.push(`${node.name}: ${err instanceof Error ? err.message : String(err)}`)
        continue
      }
      await this.#o.store.adopt(cluster, to, key, this.#o.clock.now())
      await this.#audit('cluster.root-key.adopt', cluster, { from, to, via: node.name })
      this.#o.log?.info({ cluster, from, to, via: node.name }, 'adopted the cluster\'s new root API key (kept sealed)')
      return { cluster, changed: true, from, to, seen }
    }
    return unchanged(`every node shows the root identity ${shortIdentity(to)}, but its key could not be adopted: ${refusals.join('; ')}`, seen)
  }

  async #audit (action: string, cluster: string, detail: Record<string, string>): Promise<void> {
    await this.#o.audit?.appendAudit({ at: this.#o.clock.now(), actor: 'system', action, target: cluster, detail })
  }

  /** True when minkms takes `key` as root through `via`. */
  async #works (via: NodeRef, key: Secret, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.#o.verify(via, key, signal === undefined ? {} : { signal })
      return true
    } catch (err) {
      if (signal?.aborted === true) throw err
      return false
    }
  }

  /** The identity the node's current run logged in its banner, or why there is none. */
  async #bannerIdentity (node: NodeRef, signal: AbortSignal | undefined): Promise<{ identity?: string, why?: string }> {
    try {
      const o = signal === undefined ? {} : { signal }
      const [status, entries] = await Promise.all([this.#o.agents.status(node, o), this.#o.agents.journalTail(node, { limit: IDENTITY_JOURNAL_TAIL, ...o })])
      const run = status.unit.status?.invocationId
      if (run === undefined || run === '') return { why: 'minkms is not running' }
      const identity = identitiesByRun(entries).get(run)
      return identity === undefined ? { why: 'its current run has logged no API Key banner line yet' } : { identity }
    } catch (err) {
      if (signal?.aborted === true) throw err
      return { why: err instanceof Error ? err.message : String(err) }
    }
  }
}
