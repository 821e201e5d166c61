// A cluster plan: every node's agent asked for its plan of the change (in parallel), and a hash
// over what the plan shows, which a rollout must quote. The hash covers the cluster, the change's
// redacted view (fingerprinted with the coordinator's key, so it is stable across calls and
// changes when a secret does), and per node its name, applied revision and plan (with its
// masked diffs): a node edited by hand, or that moved to another revision, since the plan gives
// another hash, and the rollout is refused (CRD_PLAN_HASH_MISMATCH).
import { createHash } from 'node:crypto'
import { redactChange } from '../../shared/change/redact-change.js'
import type { ChangeSpec } from '../../shared/change/schema.js'
import { validateChange } from '../../shared/change/validate-change.js'
import type { ClusterPlan } from '../../shared/schemas/rollout.js'
import type { AgentClient } from '../ports/agent-client.js'
import type { NodeRef } from '../ports/node-ref.js'
import { CoordinatorError } from '../errors.js'
import { canonicalJson } from './canonical-json.js'

/** Plans `change` on every node of a cluster. Rejects with the first agent error (CRD_AGENT_*), CRD_STALE_REVISION, or a ChangeValidationError. */
export async function planCluster (agents: AgentClient, cluster: string, nodes: readonly NodeRef[], change: ChangeSpec, fingerprintKey?: Uint8Array | string): Promise<ClusterPlan> {
  const view = redactChange(validateChange(change), fingerprintKey)
  const planned = await Promise.all(nodes.map(async (n) => {
    const [status, plan] = await Promise.all([agents.status(n), agents.plan(n, change)])
    return { node: n.name, appliedRevision: status.appliedRevision, plan }
  }))
  // An agent refuses a revision older than the one it is on (AGT_STALE_REVISION), so such a plan
  // could only end in a rollout that changes nothing: refused here, naming the revision to use.
  const ahead = planned.filter((p) => p.appliedRevision > change.revision)
  if (ahead.length > 0) {
    const top = Math.max(...ahead.map((p) => p.appliedRevision))
    throw new CoordinatorError('CRD_STALE_REVISION', `revision ${change.revision} is older than the revision ${ahead.map((p) => `${p.node} is on (${p.appliedRevision})`).join(', ')}: agents refuse an older revision; give the change revision ${top + 1} or higher`)
  }
  const planHash = createHash('sha256').update(canonicalJson({ cluster, change: view, nodes: planned })).digest('hex')
  return { cluster, revision: change.revision, planHash, change: view, nodes: planned }
}
