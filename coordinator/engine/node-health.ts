// The cluster gate before a node: every node of the cluster healthy, which is what the rollout
// needs before it takes one node down (minkms writes need every node). Healthy = the agent
// reachable and ready, the unit active, minkms ready, no drift.
import type { AgentClient } from '../ports/agent-client.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import { errorText } from './error-text.js'

/** One node's health: `message` says what is wrong when it is not healthy. */
export interface NodeVerdict { node: string, healthy: boolean, message: string }

/**
 * Asks the node's agent and minkms whether it is healthy. Never rejects. The three questions go
 * out at once (one round trip, not two, before every node of a rollout); the answers are read in
 * a fixed order, so the message names the agent's problem before minkms's, as before.
 */
export async function checkNode (agents: AgentClient, probe: ClusterProbe, node: NodeRef, signal?: AbortSignal): Promise<NodeVerdict> {
  const bad = (message: string): NodeVerdict => ({ node: node.name, healthy: false, message: `${node.name}: ${message}` })
  const opts = signal === undefined ? {} : { signal }
  const [agent, minkms] = await Promise.allSettled([
    Promise.all([agents.ready(node, opts), agents.status(node, opts)]),
    probe.ready(node, opts)
  ])
  if (agent.status === 'rejected') return bad(`its agent cannot be asked: ${errorText(agent.reason)}`)
  const [ready, status] = agent.value
  if (!ready) return bad('its agent is not ready')
  const unit = status.unit.status
  if (unit !== undefined && unit.activeState !== 'active') return bad(`${status.unit.name} is ${unit.activeState} (${unit.subState})`)
  if (status.applying) return bad('its agent is applying a change')
  if (status.drift.length > 0) return bad(`drift: ${status.drift.map((e) => e.name).join(', ')} changed outside keyroll`)
  if (minkms.status === 'rejected') return bad(`minkms cannot be asked: ${errorText(minkms.reason)}`)
  if (!minkms.value) return bad('minkms is not ready')
  return { node: node.name, healthy: true, message: `${node.name}: healthy` }
}

/** The first unhealthy node of `nodes` (asked in parallel), or undefined when all are healthy. */
export async function firstUnhealthy (agents: AgentClient, probe: ClusterProbe, nodes: readonly NodeRef[], signal?: AbortSignal): Promise<NodeVerdict | undefined> {
  const all = await Promise.all(nodes.map(async (n) => await checkNode(agents, probe, n, signal)))
  return all.find((v) => !v.healthy)
}
