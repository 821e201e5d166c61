// The checks that need the nodes, before any node is touched: each node's agent tries the external
// servers from where it stands (in parallel), every node must be healthy, and no node's config may
// hold another HSM block unless the operator asked to replace it. Also the revision phase A's
// change will carry: above every node's applied revision, so no agent refuses it as stale. The
// reads that need nothing on the external Key Manager (health, revision, HSM blocks) are
// readNodeState, which the runner starts while it provisions.
import type { ExternalKmsPreflightRequest, ExternalKmsPreflightResult } from '../../shared/schemas/preflight.js'
import { errorText } from '../engine/error-text.js'
import { firstUnhealthy } from '../engine/node-health.js'
import type { AgentClient, AgentPreflightClient } from '../ports/agent-client.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'
import { readHsmBlocks } from './hsm-blocks.js'
import { EXTERNAL_HSM_PATH } from './hsm-names.js'
import { preflightFindings, type NodePreflight, type PreflightFindings } from './preflight-findings.js'

/** What the checks found. */
export interface NodeChecks extends PreflightFindings {
  preflight: ExternalKmsPreflightResult[]
  /** Other HSM blocks per node (`hsm.<kind>` paths), when any. */
  otherHsmBlocks: Record<string, string[]>
  /** Every node's applied revision + 1 (undefined when a node's status could not be read). */
  nextRevision?: number
}

/** Asks every node's agent to preflight the external servers, in parallel. */
export async function preflightAll (agents: AgentPreflightClient, nodes: readonly NodeRef[], req: ExternalKmsPreflightRequest, signal?: AbortSignal): Promise<NodePreflight[]> {
  return await Promise.all(nodes.map(async (node): Promise<NodePreflight> => {
    try {
      return { node: node.name, result: await agents.preflightExternalKms(node, req, signal === undefined ? {} : { signal }) }
    } catch (err) {
      signal?.throwIfAborted()
      return { node: node.name, error: errorText(err) }
    }
  }))
}

/** The revision above every node's applied one. */
export async function nextRevisionOf (agents: Pick<AgentClient, 'status'>, nodes: readonly NodeRef[], signal?: AbortSignal): Promise<number> {
  const statuses = await Promise.all(nodes.map(async (n) => await agents.status(n, signal === undefined ? {} : { signal })))
  return Math.max(0, ...statuses.map((s) => s.appliedRevision)) + 1
}

/** What the nodes show without the external Key Manager: health, revision, other HSM blocks. */
export interface NodeState {
  problems: string[]
  otherHsmBlocks: Record<string, string[]>
  nextRevision?: number
}

/**
 * The node reads that need nothing provisioned: every node healthy, the next revision, and each
 * node's HSM blocks (read with `revision`, default the next revision found here). The health and
 * the revision are asked at once. Problems in the order: health, revision, blocks, other HSMs.
 */
export async function readNodeState (o: {
  agents: AgentClient
  probe: ClusterProbe
  nodes: readonly NodeRef[]
  replaceHsm: boolean
  revision?: number
  signal?: AbortSignal
}): Promise<NodeState> {
  const problems: string[] = []
  const [unhealthy, next] = await Promise.all([
    firstUnhealthy(o.agents, o.probe, o.nodes, o.signal),
    nextRevisionOf(o.agents, o.nodes, o.signal).then((value) => ({ value }), (err: unknown) => {
      o.signal?.throwIfAborted()
      return { error: errorText(err) }
    })
  ])
  if (unhealthy !== undefined) problems.push(`the cluster is not healthy: ${unhealthy.message}`)
  const nextRevision = 'value' in next ? next.value : undefined
  if ('error' in next) problems.push(`a node's revision could not be read: ${next.error}`)
  const otherHsmBlocks: Record<string, string[]> = {}
  const revision = o.revision ?? nextRevision
  if (revision !== undefined) {
    const failures: Record<string, string> = {}
    await Promise.all(o.nodes.map(async (node) => {
      try {
        const others = (await readHsmBlocks(o.agents, node, revision, o.signal === undefined ? {} : { signal: o.signal })).filter((b) => b !== EXTERNAL_HSM_PATH)
        if (others.length > 0) otherHsmBlocks[node.name] = others
      } catch (err) {
        o.signal?.throwIfAborted()
        failures[node.name] = errorText(err)
      }
    }))
    // Node order, however the answers arrived.
    for (const node of o.nodes) {
      const failure = failures[node.name]
      if (failure !== undefined) problems.push(`node ${node.name}: its config's HSM blocks could not be read (${failure})`)
    }
  }
  if (!o.replaceHsm) {
    // One sentence per set of blocks, naming its nodes: a cluster's nodes usually share a config.
    const byBlocks = new Map<string, string[]>()
    for (const node of o.nodes) {
      const others = otherHsmBlocks[node.name]
      if (others !== undefined) byBlocks.set(others.join(', '), [...(byBlocks.get(others.join(', ')) ?? []), node.name])
    }
    for (const [blocks, names] of byBlocks) {
      const who = names.length === 1 ? `node ${names[0] ?? ''}'s config already configures` : `the configs of nodes ${names.join(', ')} already configure`
      problems.push(`${who} another HSM (${blocks}); migrate with replaceHsm (--replace-hsm) to replace it, which removes that block in phase B`)
    }
  }
  return { problems, otherHsmBlocks, ...(nextRevision === undefined ? {} : { nextRevision }) }
}

/**
 * Preflight, health and HSM blocks. `answers` maps preflight answers (a dry run marks the checks
 * it cannot make). The agents' preflight and the node reads are asked at once; `state`, when
 * given, is the node reads already under way (the runner starts them while it provisions).
 * Nothing here writes.
 */
export async function checkNodes (o: {
  agents: AgentClient & AgentPreflightClient
  probe: ClusterProbe
  nodes: readonly NodeRef[]
  request: ExternalKmsPreflightRequest
  replaceHsm: boolean
  /** Revision to plan the HSM-block read with (default: the next revision found here). */
  revision?: number
  mapAnswer?: (r: ExternalKmsPreflightResult) => ExternalKmsPreflightResult
  state?: Promise<NodeState>
  signal?: AbortSignal
}): Promise<NodeChecks> {
  const [raw, state] = await Promise.all([
    preflightAll(o.agents, o.nodes, o.request, o.signal),
    o.state ?? readNodeState({ agents: o.agents, probe: o.probe, nodes: o.nodes, replaceHsm: o.replaceHsm, ...(o.revision === undefined ? {} : { revision: o.revision }), ...(o.signal === undefined ? {} : { signal: o.signal }) })
  ])
  const answers = raw.map((a) => 'result' in a && o.mapAnswer !== undefined ? { node: a.node, result: o.mapAnswer(a.result) } : a)
  const found = preflightFindings(o.request.servers, answers)
  const preflight = answers.flatMap((a) => 'result' in a ? [a.result] : [])
  return {
    problems: [...found.problems, ...state.problems],
    warnings: found.warnings,
    preflight,
    otherHsmBlocks: state.otherHsmBlocks,
    ...(state.nextRevision === undefined ? {} : { nextRevision: state.nextRevision })
  }
}
