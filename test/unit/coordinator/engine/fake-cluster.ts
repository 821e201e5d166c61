// A cluster of fake nodes behind both ports the engine talks through: each node's agent
// (AgentClient) and its minkms (ClusterProbe). A node applies a change like the agent does
// (events, restart = new InvocationID, journal lines, a verdict, lastResult kept by revision, an
// already-applied revision is a no-op, a rolled-back one is retried), and counts its restarts.
// Faults: `fail` (the new config does not start: fatal line, the agent rolls back), `no-rejoin`
// (minkms starts but refuses its peers), `contradict` (the verdict says ok, the journal has a
// fatal line), `hold` (the apply waits for a promise: a coordinator can be killed mid-apply).
import type { ChangeSpec, RestartPolicy } from '../../../../shared/change/schema.js'
import type { AgentStatus } from '../../../../shared/schemas/agent-status.js'
import type { ApplyEvent, ApplyResult, LastResult, PlanResult } from '../../../../shared/schemas/apply.js'
import type { JournalEntry } from '../../../../shared/schemas/journal.js'
import type { Verdict } from '../../../../shared/schemas/verdict.js'
import { CoordinatorError } from '../../../../coordinator/errors.js'
import type { AgentClient, StreamOptions } from '../../../../coordinator/ports/agent-client.js'
import type { ClusterProbe, HsmStatus, MemberView } from '../../../../coordinator/ports/cluster-probe.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import type { ClusterConfig } from '../../../../coordinator/config-schema.js'
import type { FakeClock } from '../../../helpers/fake-clock.js'

export type Fault = 'fail' | 'no-rejoin' | 'contradict'

export class FakeNode {
  appliedRevision = 0
  previous: number[] = []
  invocation: string
  restarts = 0
  applies = 0
  rollbacks = 0
  applying = false
  lastResult: LastResult | undefined
  journal: JournalEntry[] = []
  up = true
  agentUp = true
  refusesPeers = false
  drift = false
  /** What the node's own cluster status shows of its HSMs. */
  hsms: HsmStatus = { configured: ['hsm:minio:soft'], sealed: ['hsm:minio:soft'] }
  fault: Fault | undefined
  /** When set, an apply waits for it after its restart step started. */
  hold: Promise<void> | undefined
  /** Called when an apply arrives (tests note the time, the other nodes' states). */
  onApply: (() => void) | undefined
  readonly listeners = new Set<() => void>()
  #seq = 0

  constructor (readonly name: string, readonly minkms: string, readonly clock: FakeClock) {
    this.invocation = `${name}-inv0`
    this.log('Server is up and running')
  }

  log (message: string, invocationId = this.invocation): void {
    this.journal.push({ cursor: `i=${(++this.#seq).toString(16)}`, realtimeUs: this.clock.now() * 1000, message, invocationId, priority: 6 })
    for (const l of this.listeners) l()
  }

  restart (ok: boolean): void {
    this.restarts++
    this.invocation = `${this.name}-inv${this.restarts}`
    this.log('Starting minkms')
    if (ok) this.log('Server is up and running')
  }
}

function verdict (node: FakeNode, ok: boolean, before: string): Verdict {
  const at = node.clock.now()
  return {
    ok,
    reason: ok ? 'ready' : 'fatal-line',
    summary: ok ? `ready: invocation ${node.invocation} printed its ready line` : `fatal line: FATAL cannot load the config (invocation ${node.invocation})`,
    baseline: { cursor: 'i=1', invocationId: before, nRestarts: 0, takenAt: at },
    invocationId: node.invocation,
    lines: [],
    timings: { restartAt: at, verdictAt: at }
  }
}

export class FakeCluster implements AgentClient, ClusterProbe {
  readonly nodes = new Map<string, FakeNode>()
  readonly provisioned: string[] = []
  /** Every apply call, in order: node and revision. */
  readonly applyLog: Array<{ node: string, revision: number }> = []

  constructor (readonly clock: FakeClock, readonly config: ClusterConfig) {
    for (const n of config.nodes) {
      this.nodes.set(n.name, new FakeNode(n.name, n.minkms, clock))
    }
  }

  node (name: string): FakeNode {
    const n = this.nodes.get(name)
    if (n === undefined) throw new Error(`no fake node ${name}`)
    return n
  }

  #agent (ref: NodeRef): FakeNode {
    const n = this.node(ref.name)
    if (!n.agentUp) throw new CoordinatorError('CRD_AGENT_UNREACHABLE', `agent of ${ref.name} unreachable`)
    return n
  }

  async status (ref: NodeRef): Promise<AgentStatus> {
    const n = this.#agent(ref)
    return {
      node: n.name,
      unit: { name: 'minkms.service', status: { activeState: n.up ? 'active' : 'failed', subState: n.up ? 'running' : 'failed', result: 'success', invocationId: n.invocation, nRestarts: 0, mainPid: 100, execMainStatus: 0, loadState: 'loaded' } },
      appliedRevision: n.appliedRevision,
      desiredRevision: n.appliedRevision,
      applying: n.applying,
      drift: n.drift ? [{ name: 'config', path: '/etc/minkms/config.yaml', fingerprint: 'aa', expected: 'bb', since: 0 }] : [],
      ...(n.lastResult === undefined ? {} : { lastResult: n.lastResult }),
      checks: { config: { ok: true, message: 'ok' }, unit: { ok: n.up, message: 'unit' }, journal: { ok: true, message: 'ok' } }
    }
  }

  async ready (ref: NodeRef, opts?: { write?: boolean, signal?: AbortSignal }): Promise<boolean> {
    // Both the agent's readiness (AgentClient.ready) and minkms's (ClusterProbe.ready) land here.
    const n = this.#agent(ref)
    if (opts?.write === true) return [...this.nodes.values()].every((x) => x.up && !x.refusesPeers)
    return n.up
  }

  async plan (ref: NodeRef, change: ChangeSpec): Promise<PlanResult> {
    const n = this.#agent(ref)
    const changed = change.revision > n.appliedRevision
    return { revision: change.revision, changed, restart: changed, files: [{ name: 'config', path: '/etc/minkms/config.yaml', changed, diff: changed ? `-revision ${n.appliedRevision}\n+revision ${change.revision}` : '' }] }
  }

  /** Like the real client: an aborted call rejects, while the agent finishes its apply by itself. */
  async apply (ref: NodeRef, change: ChangeSpec, opts?: StreamOptions): Promise<ApplyResult> {
    opts?.signal?.throwIfAborted()
    const work = this.#apply(ref, change, opts)
    const signal = opts?.signal
    if (signal === undefined) return await work
    return await new Promise<ApplyResult>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      work.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
    })
  }

  async #apply (ref: NodeRef, change: ChangeSpec, opts?: StreamOptions): Promise<ApplyResult> {
    const n = this.#agent(ref)
    if (n.applying) throw new CoordinatorError('CRD_AGENT_ERROR', 'AGT_LOCKED: another apply is running')
    n.applies++
    this.applyLog.push({ node: n.name, revision: change.revision })
    n.onApply?.()
    const ev = (step: ApplyEvent['step'], status: ApplyEvent['status'], message?: string): void => opts?.onEvent?.({ step, status, at: this.clock.now(), ...(message === undefined ? {} : { message }) })
    const plan: PlanResult = { revision: change.revision, changed: true, restart: true, files: [] }
    if (change.revision <= n.appliedRevision) {
      return this.#finish(n, { result: 'ok', revision: change.revision, changed: false, restarted: false, message: `already on revision ${n.appliedRevision}`, plan })
    }
    n.applying = true
    try {
      ev('write', 'done')
      ev('restart', 'started')
      const before = n.invocation
      if (n.hold !== undefined) await n.hold
      if (n.fault === 'fail') {
        n.restart(false)
        n.log('FATAL cannot load the config')
        n.restart(true)
        ev('restore', 'done')
        return this.#finish(n, { result: 'rolled-back', revision: change.revision, changed: false, restarted: true, failedStep: 'verify', message: `revision ${change.revision} failed verification; restored revision ${n.appliedRevision}`, verdict: verdict(n, false, before), plan })
      }
      n.restart(n.fault !== 'contradict')
      if (n.fault === 'contradict') n.log('FATAL lost the cluster key')
      if (n.fault === 'no-rejoin') n.refusesPeers = true
      n.previous.push(n.appliedRevision)
      n.appliedRevision = change.revision
      ev('commit', 'done')
      return this.#finish(n, { result: 'changed', revision: change.revision, changed: true, restarted: true, message: `revision ${change.revision} applied`, verdict: verdict(n, true, before), plan })
    } finally {
      n.applying = false
    }
  }

  #finish (n: FakeNode, r: ApplyResult): ApplyResult {
    const { plan: _plan, ...rest } = r
    n.lastResult = { ...rest, at: this.clock.now() }
    return r
  }

  async rollback (ref: NodeRef, opts?: StreamOptions & { restart?: RestartPolicy }): Promise<ApplyResult> {
    const n = this.#agent(ref)
    n.rollbacks++
    const to = n.previous.pop() ?? 0
    const before = n.invocation
    n.appliedRevision = to
    n.refusesPeers = false
    n.fault = undefined
    n.restart(true)
    opts?.onEvent?.({ step: 'restart', status: 'done', at: this.clock.now() })
    return this.#finish(n, { result: 'changed', revision: to, changed: true, restarted: true, message: `rolled back to revision ${to}`, verdict: verdict(n, true, before), plan: { revision: to, changed: true, restart: true, files: [] } })
  }

  async journalCursor (ref: NodeRef): Promise<string | undefined> {
    return this.#agent(ref).journal.at(-1)?.cursor
  }

  async journalTail (ref: NodeRef, opts: { limit: number }): Promise<JournalEntry[]> {
    return this.#agent(ref).journal.slice(-opts.limit)
  }

  async followJournal (ref: NodeRef, opts: { after?: string, signal: AbortSignal, onEntry: (e: JournalEntry) => void }): Promise<void> {
    const n = this.#agent(ref)
    let i = opts.after === undefined ? 0 : n.journal.findIndex((e) => e.cursor === opts.after) + 1
    if (opts.after !== undefined && i === 0) throw new CoordinatorError('CRD_AGENT_ERROR', `unknown cursor ${opts.after}`)
    const pump = (): void => { while (i < n.journal.length) opts.onEntry(n.journal[i++] as JournalEntry) }
    pump()
    if (opts.signal.aborted) return
    n.listeners.add(pump)
    await new Promise<void>((resolve) => { opts.signal.addEventListener('abort', () => resolve(), { once: true }) })
    n.listeners.delete(pump)
  }

  async members (via: NodeRef): Promise<MemberView[]> {
    const v = this.node(via.name)
    if (!v.up) throw new CoordinatorError('CRD_MINKMS_UNREACHABLE', `${via.name} is down`)
    return [...this.nodes.values()].map((x) => ({ endpoint: x.minkms, up: x.up && !x.refusesPeers }))
  }

  async hsmStatus (ref: NodeRef): Promise<HsmStatus> {
    const n = this.node(ref.name)
    if (!n.up) throw new CoordinatorError('CRD_MINKMS_UNREACHABLE', `${ref.name} is down`)
    return { configured: [...n.hsms.configured], sealed: [...n.hsms.sealed] }
  }

  async clientRoundTrip (ref: NodeRef): Promise<void> {
    if (!this.node(ref.name).up) throw new CoordinatorError('CRD_MINKMS_UNREACHABLE', `${ref.name} is down`)
  }

  async provision (cluster: string): Promise<void> { this.provisioned.push(cluster) }
}

/** A cluster config of `n` nodes named node1…nodeN. */
export function clusterConfig (n = 3, name = 'c1'): ClusterConfig {
  return {
    name,
    nodes: Array.from({ length: n }, (_, i) => ({ name: `node${i + 1}`, agent: `https://10.0.0.${i + 1}:7480`, minkms: `10.0.0.${i + 1}:7373` })),
    minkms: { ca: '/etc/keyroll/minkms-ca.pem', adminKeyFile: '/etc/keyroll/admin.key' }
  }
}
