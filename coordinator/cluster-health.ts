// Live health of a configured node, as GET /v1/clusters and /v1/nodes show it (through the
// node-health cache): the node's agent (status, then readiness) and its minkms (ready), each
// question bounded by a short timeout so that one dead node costs the answer at most that long. A node that
// cannot be asked is shown as such (`agent.reachable: false`, the reason in `agent.error`), never
// as an error of the whole request.
import type { ClusterView, NodeHealth } from '../shared/schemas/cluster.js'
import type { AgentStatus } from '../shared/schemas/agent-status.js'
import { maskSecrets } from '../shared/logger.js'
import type { AgentClient } from './ports/agent-client.js'
import type { ClusterProbe } from './ports/cluster-probe.js'
import type { NodeRef } from './ports/node-ref.js'

/** What the health view asks. */
export interface HealthSources {
  agents: Pick<AgentClient, 'status' | 'ready'>
  probe: Pick<ClusterProbe, 'ready'>
  /** Per-question timeout in ms (default 3000). */
  timeoutMs?: number
}

/** Default per-node timeout: a live node answers in milliseconds. */
export const HEALTH_TIMEOUT_MS = 3000

/**
 * How long the health views' clients keep an idle connection, ms. A node's two agent questions
 * follow each other at once, and its next refresh comes 5 s later at the earliest (the cache's
 * bound), after a kept connection would have closed anyway: keeping one longer serves no question
 * but holds its TLS state. A cold fleet view of 1,000 nodes kept well over a thousand idle TLS
 * connections (agents and minkms) at 4 s, about 90 MB of RSS; at this bound a few hundred
 * (docs/benchmarks.md).
 */
export const HEALTH_IDLE_CONNECTION_MS = 500

/** One node's health. Never rejects. */
export async function nodeHealth (node: NodeRef, src: HealthSources): Promise<NodeHealth> {
  const ms = src.timeoutMs ?? HEALTH_TIMEOUT_MS
  // The agent's readiness only after its status: an agent that cannot give its status is
  // unreachable whatever its readiness, and the second call reuses the first one's connection
  // (asked at once, both would open one, and a fleet view pays a TLS handshake per connection).
  const agent = (async () => {
    const status = await settle(bounded(ms, async signal => await src.agents.status(node, { signal })))
    const ready = status.status === 'rejected' ? status : await settle(bounded(ms, async signal => await src.agents.ready(node, { signal })))
    return [status, ready] as const
  })()
  const [[status, ready], minkms] = await Promise.all([agent, settle(bounded(ms, async signal => await src.probe.ready(node, { signal })))])
  const base = { cluster: node.cluster, node: node.name, agentUrl: node.agentUrl, minkms: node.minkms }
  const minkmsReady = minkms.status === 'fulfilled' ? minkms.value : false
  if (status.status === 'rejected') {
    return { ...base, agent: { reachable: false, error: reasonOf(status.reason) }, minkmsReady, healthy: false }
  }
  const s: AgentStatus = status.value
  const agentReady = ready.status === 'fulfilled' ? ready.value : false
  const unit = s.unit.status
  const drift = s.drift.length > 0
  return {
    ...base,
    agent: { reachable: true, ready: agentReady, ...(ready.status === 'rejected' ? { error: reasonOf(ready.reason) } : {}) },
    ...(unit === undefined ? {} : { unit: { activeState: unit.activeState, subState: unit.subState, ...(unit.invocationId === '' ? {} : { invocationId: unit.invocationId }) } }),
    minkmsReady,
    drift,
    appliedRevision: s.appliedRevision,
    desiredRevision: s.desiredRevision,
    healthy: agentReady && unit?.activeState === 'active' && minkmsReady && !drift
  }
}

/** Health of many nodes, asked in parallel, in the given order. */
export async function nodesHealth (nodes: readonly NodeRef[], src: HealthSources): Promise<NodeHealth[]> {
  return await Promise.all(nodes.map(async n => await nodeHealth(n, src)))
}

/** The clusters' views from their nodes' health (`activeRollout` by cluster name). */
export function clusterViews (names: readonly string[], health: readonly NodeHealth[], activeRollout: (cluster: string) => string | undefined): ClusterView[] {
  return names.map(name => {
    const nodes = health.filter(h => h.cluster === name)
    const active = activeRollout(name)
    return { name, healthy: nodes.length > 0 && nodes.every(h => h.healthy), ...(active === undefined ? {} : { activeRollout: active }), nodes }
  })
}

async function settle<T> (p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return (await Promise.allSettled([p]))[0] as PromiseSettledResult<T>
}

/** The question's answer, or a TimeoutError after `ms` even when the client ignores its signal. */
async function bounded<T> (ms: number, ask: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const err = new DOMException('no answer in time', 'TimeoutError')
      ac.abort(err)
      reject(err)
    }, ms)
  })
  try {
    return await Promise.race([ask(ac.signal), timeout])
  } finally {
    clearTimeout(timer)
  }
}

// One line of the reason: the coded error's message (it names the node and the cause), never a stack.
function reasonOf (err: unknown): string {
  const e = err as { code?: unknown, message?: unknown, name?: unknown }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer in time'
  const text = typeof e?.message === 'string' ? e.message : String(err)
  const code = typeof e?.code === 'string' ? `${e.code}: ` : ''
  return maskSecrets(`${code}${text.split('\n')[0] ?? ''}`).slice(0, 300)
}
