// A ClusterProbe double for the engine's tests: clusters of nodes that are up or down (a down
// node is not ready, shows down in every member list, fails its round trip as unreachable),
// plus per-node scripts for what a healthy cluster never does (a node not rejoining, a round
// trip refused). Every node's HSMs are the local soft HSM, configured and sealing, unless set
// (setHsms). A script never consumed fails the test (assertNoPendingScripts, as the other
// fakes do).
import type { ClusterHsmAdmin, ClusterProbe, HsmStatus, MemberView } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import { MinkmsProbeError, MinkmsUnreachableProbeError } from './probe-errors.js'

/** The calls of the port. */
export type ProbeOp = 'ready' | 'members' | 'clientRoundTrip' | 'provision' | 'hsmStatus' | 'removeHsm'

/** What a node's HSM status shows when nothing was set: minkms's software HSM of MINIO_KMS_HSM_KEY. */
export const DEFAULT_FAKE_HSMS: HsmStatus = { configured: ['hsm:minio:soft'], sealed: ['hsm:minio:soft'] }

/** A scripted answer to the next call of one op on one node. */
export type ProbeAnswer =
  | { fail: 'unreachable' }
  | { fail: 'probe-failed', message?: string }
  | { ready: boolean }
  | { members: MemberView[] }
  | { hsms: HsmStatus }

/** One call the fake received. */
export interface ProbeCall { op: ProbeOp, node: string, write?: boolean }

interface Script { node: string, op: ProbeOp, answer: ProbeAnswer, left: number, used: number }

/** Clusters in memory behind the ClusterProbe port. */
export class FakeClusterProbe implements ClusterProbe, ClusterHsmAdmin {
  readonly calls: ProbeCall[] = []
  /** Clusters provisioned (names). */
  readonly provisioned = new Set<string>()
  readonly #nodes = new Map<string, NodeRef[]>()
  readonly #down = new Set<string>()
  readonly #hsms = new Map<string, HsmStatus>()
  readonly #scripts: Script[] = []

  /** Adds a cluster's nodes, all up. */
  addCluster (nodes: readonly NodeRef[]): this {
    for (const n of nodes) this.#nodes.set(n.cluster, [...(this.#nodes.get(n.cluster) ?? []), n])
    return this
  }

  /** Marks a node's minkms up or down. */
  setUp (node: NodeRef, up: boolean): this {
    if (up) this.#down.delete(key(node))
    else this.#down.add(key(node))
    return this
  }

  /** Sets what the node's HSM status shows from now on. */
  setHsms (node: NodeRef, hsms: HsmStatus): this {
    this.#hsms.set(key(node), { configured: [...hsms.configured], sealed: [...hsms.sealed] })
    return this
  }

  /** Scripts the next `times` (default 1) calls of `op` on `node`, in order. */
  script (node: NodeRef, op: ProbeOp, answer: ProbeAnswer, opts: { times?: number } = {}): this {
    this.#scripts.push({ node: key(node), op, answer, left: opts.times ?? 1, used: 0 })
    return this
  }

  /** Drops every script not used up: the test changed the world (e.g. the peers accept a node again). */
  clearScripts (): this {
    this.#scripts.splice(0)
    return this
  }

  /** Throws, naming each one, when a script was never (fully) used. */
  assertNoPendingScripts (): void {
    const pending = this.#scripts.filter((s) => s.left > 0).map((s) => `${s.node} ${s.op} ${JSON.stringify(s.answer)}: used ${s.used}, ${s.left} more expected`)
    if (pending.length > 0) throw new Error(`FakeClusterProbe: ${pending.length} scripted answer(s) never used:\n  ${pending.join('\n  ')}`)
  }

  async ready (node: NodeRef, opts: { write?: boolean } = {}): Promise<boolean> {
    const s = this.#call(node, 'ready', opts.write === true ? { write: true } : {})
    if (s !== undefined && 'ready' in s) return s.ready
    if (this.#down.has(key(node))) return false
    // Writes need every member (N-of-N), reads only this one.
    return opts.write !== true || this.#members(node.cluster).every((n) => !this.#down.has(key(n)))
  }

  async members (via: NodeRef): Promise<MemberView[]> {
    const s = this.#call(via, 'members')
    if (s !== undefined && 'members' in s) return s.members
    if (this.#down.has(key(via))) throw new MinkmsUnreachableProbeError(via, 'cluster status', new Error('connect ECONNREFUSED (fake)'))
    return this.#members(via.cluster).map((n) => ({ endpoint: n.minkms, up: !this.#down.has(key(n)) }))
  }

  async hsmStatus (node: NodeRef): Promise<HsmStatus> {
    const s = this.#call(node, 'hsmStatus')
    if (s !== undefined && 'hsms' in s) return s.hsms
    if (this.#down.has(key(node))) throw new MinkmsUnreachableProbeError(node, 'HSM status', new Error('connect ECONNREFUSED (fake)'))
    const h = this.#hsms.get(key(node)) ?? DEFAULT_FAKE_HSMS
    return { configured: [...h.configured], sealed: [...h.sealed] }
  }

  /** Drops `name` from every node's sealed HSMs of the cluster (CLUSTER:REMOVEHSM needs every member up). */
  async removeHsm (via: NodeRef, name: string): Promise<void> {
    this.#call(via, 'removeHsm')
    const down = this.#members(via.cluster).find((n) => this.#down.has(key(n)))
    if (down !== undefined) throw new MinkmsUnreachableProbeError(down, `CLUSTER:REMOVEHSM ${name}`, new Error('connect ECONNREFUSED (fake)'))
    for (const n of this.#members(via.cluster)) {
      const h = this.#hsms.get(key(n)) ?? DEFAULT_FAKE_HSMS
      this.#hsms.set(key(n), { configured: [...h.configured], sealed: h.sealed.filter((x) => x !== name) })
    }
  }

  async clientRoundTrip (node: NodeRef): Promise<void> {
    this.#call(node, 'clientRoundTrip')
    if (this.#down.has(key(node))) throw new MinkmsUnreachableProbeError(node, 'client round trip', new Error('connect ECONNREFUSED (fake)'))
    if (!this.provisioned.has(node.cluster)) throw new MinkmsProbeError(node, 'client round trip', `cluster ${node.cluster} has no probe identity yet; provision it first`)
  }

  async provision (cluster: string, via: NodeRef): Promise<void> {
    this.#call(via, 'provision')
    if (this.#down.has(key(via))) throw new MinkmsUnreachableProbeError(via, 'provisioning', new Error('connect ECONNREFUSED (fake)'))
    this.provisioned.add(cluster)
  }

  #members (cluster: string): NodeRef[] {
    return this.#nodes.get(cluster) ?? []
  }

  /** Records the call; throws a scripted failure, returns another scripted answer. */
  #call (node: NodeRef, op: ProbeOp, extra: { write?: boolean } = {}): ProbeAnswer | undefined {
    this.calls.push({ op, node: node.name, ...extra })
    const s = this.#scripts.find((x) => x.left > 0 && x.node === key(node) && x.op === op)
    if (s === undefined) return undefined
    s.left--
    s.used++
    if ('fail' in s.answer) {
      if (s.answer.fail === 'unreachable') throw new MinkmsUnreachableProbeError(node, op, new Error('scripted'))
      throw new MinkmsProbeError(node, op, s.answer.message ?? 'scripted failure')
    }
    return s.answer
  }
}

function key (node: NodeRef): string {
  return `${node.cluster}/${node.name}`
}
