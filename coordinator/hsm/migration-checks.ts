// The checks that need the nodes, before any node is touched: each node's agent tries the external
// servers from where it stands (in parallel), every node must be healthy, and no node's config may
// hold another HSM block unless the operator asked to replace it. Also the revision phase A's
// change will carry: above every node's applied revision, so no agent refuses it as stale.
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

/**
 * Preflight, health and HSM blocks. `answers` maps preflight answers (a dry run marks the checks
 * it cannot make). Nothing here writes.
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
  signal?: AbortSignal
}): Promise<NodeChecks> {
  const answers = (await preflightAll(o.agents, o.nodes, o.request, o.signal))
    .map((a) => 'result' in a && o.mapAnswer !== undefined ? { node: a.node, result: o.mapAnswer(a.result) } : a)
  const found = preflightFindings(o.request.servers, answers)
  const problems = [...found.problems]
  const preflight = answers.flatMap((a) => 'result' in a ? [a.result] : [])

  const unhealthy = await firstUnhealthy(o.agents, o.probe, o.nodes, o.signal)
  if (unhealthy !== undefined) problems.push(`the cluster is not healthy: ${unhealthy.message}`)

  let nextRevision: number | undefined
  try {
    nextRevision = await nextRevisionOf(o.agents, o.nodes, o.signal)
  } catch (err) {
    o.signal?.throwIfAborted()
    problems.push(`a node's revision could not be read: ${errorText(err)}`)
  }
  const otherHsmBlocks: Record<string, string[]> = {}
  const revision = o.revision ?? nextRevision
  if (revision !== undefined) {
    await Promise.all(o.nodes.map(async (node) => {
      try {
        const others = (await readHsmBlocks(o.agents, node, revision, o.signal === undefined ? {} : { signal: o.signal })).filter((b) => b !== EXTERNAL_HSM_PATH)
        if (others.length > 0) otherHsmBlocks[node.name] = others
      } catch (err) {
        o.signal?.throwIfAborted()
        problems.push(`node ${node.name}: its config's HSM blocks could not be read (${errorText(err)})`)
      }
    }))
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
  return { problems, warnings: found.warnings, preflight, otherHsmBlocks, ...(nextRevision === undefined ? {} : { nextRevision }) }
}
