// The cluster gate before a node: every node of the cluster healthy, which is what the rollout
// needs before it takes one node down (minkms writes need every node). Healthy = the agent
// reachable and ready, the unit active, minkms ready, no drift.
//
// One question to each agent: its /v1/status carries the same checks /health/ready answers from
// (config, unit, journal; ready = all three ok), so asking both would only double the requests a
// busy agent answers in turn between two nodes.
import type { AgentStatus } from '../../shared/schemas/agent-status.js'
import type { AgentClient } from '../ports/agent-client.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import { errorText } from './error-text.js'

/** One node's health: `message` says what is wrong when it is not healthy. */
export interface NodeVerdict { node: string, healthy: boolean, message: string }

/** What one node's agent and minkms answered (each question settled, never rejected). */
export interface NodeReading {
  node: NodeRef
  status: PromiseSettledResult<AgentStatus>
  minkms: PromiseSettledResult<boolean>
}

/** Asks the node's agent (status) and its minkms (ready) at once. Never rejects. */
export async function readNode (agents: AgentClient, probe: ClusterProbe, node: NodeRef, signal?: AbortSignal): Promise<NodeReading> {
  const opts = signal === undefined ? {} : { signal }
  const [status, minkms] = await Promise.allSettled([agents.status(node, opts), probe.ready(node, opts)])
  return { node, status, minkms }
}

/** The agent's readiness from its status: what /health/ready would answer, with the failing check named. */
export function agentReadiness (status: AgentStatus): { ready: boolean, message: string } {
  const failing = Object.entries(status.checks).filter(([, c]) => !c.ok)
  if (failing.length === 0) return { ready: true, message: 'ready' }
  return { ready: false, message: `its agent is not ready (${failing.map(([name, c]) => `${name}: ${c.message}`).join('; ')})` }
}

/**
 * Judges a reading. The answers are read in a fixed order, so the message names the agent's
 * problem before minkms's.
 */
export function judgeNode (r: NodeReading): NodeVerdict {
  const name = r.node.name
  const bad = (message: string): NodeVerdict => ({ node: name, healthy: false, message: `${name}: ${message}` })
  if (r.status.status === 'rejected') return bad(`its agent cannot be asked: ${errorText(r.status.reason)}`)
  const status = r.status.value
  const readiness = agentReadiness(status)
  if (!readiness.ready) return bad(readiness.message)
  const unit = status.unit.status
  if (unit !== undefined && unit.activeState !== 'active') return bad(`${status.unit.name} is ${unit.activeState} (${unit.subState})`)
  if (status.applying) return bad('its agent is applying a change')
  if (status.drift.length > 0) return bad(`drift: ${status.drift.map((e) => e.name).join(', ')} changed outside keyroll`)
  if (r.minkms.status === 'rejected') return bad(`minkms cannot be asked: ${errorText(r.minkms.reason)}`)
  if (!r.minkms.value) return bad('minkms is not ready')
  return { node: name, healthy: true, message: `${name}: healthy` }
}

/** Asks the node's agent and minkms whether it is healthy (one round trip). Never rejects. */
export async function checkNode (agents: AgentClient, probe: ClusterProbe, node: NodeRef, signal?: AbortSignal): Promise<NodeVerdict> {
  return judgeNode(await readNode(agents, probe, node, signal))
}

/** The first unhealthy node of `nodes` (asked in parallel), or undefined when all are healthy. */
export async function firstUnhealthy (agents: AgentClient, probe: ClusterProbe, nodes: readonly NodeRef[], signal?: AbortSignal): Promise<NodeVerdict | undefined> {
  const all = await Promise.all(nodes.map(async (n) => await checkNode(agents, probe, n, signal)))
  return all.find((v) => !v.healthy)
}
