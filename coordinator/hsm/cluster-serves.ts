// The cluster as a whole, as the all-at-once phase B judges it before its commits, after them and
// after rolling every node back: every node's own cluster status lists the member list the config
// names with every member up (so each node is up in every other node's status, not just in one
// peer's, as the step gate asks), and minkms accepts writes through every node
// (/v1/health/ready?write answers 200). The reads of one attempt are made at once; the attempt is
// repeated every pollMs until it passes or the deadline passes (one attempt when the deadline is
// already behind).
import type { Clock } from '../../shared/clock.js'
import { errorText } from '../engine/error-text.js'
import { retryUntil } from '../engine/retry.js'
import type { ClusterProbe } from '../ports/cluster-probe.js'
import type { NodeRef } from '../ports/node-ref.js'

/** What the check needs. */
export interface ClusterServesOptions {
  probe: ClusterProbe
  nodes: readonly NodeRef[]
  clock: Clock
  pollMs: number
  /** Wall ms after which a failing attempt is the answer. */
  deadline: number
  signal: AbortSignal
}

/** The check's answer; `at` is the wall ms of the attempt that decided it. */
export interface ClusterServes { ok: boolean, message: string, ms: number, attempts: number, at: number }

/** One attempt: the first problem in node order, or undefined when the cluster serves. */
async function problemOf (o: ClusterServesOptions): Promise<string | undefined> {
  const expected = o.nodes.map((n) => n.minkms).sort().join(', ')
  const problems = await Promise.all(o.nodes.map(async (via) => {
    const [members, writes] = await Promise.all([
      o.probe.members(via, { signal: o.signal }).then((m) => m, (err: unknown) => errorText(err)),
      o.probe.ready(via, { write: true, signal: o.signal }).then((ok) => ok, (err: unknown) => errorText(err))
    ])
    if (typeof members === 'string') return `${via.name}'s cluster status cannot be read: ${members}`
    const seen = members.map((m) => m.endpoint).sort().join(', ')
    if (seen !== expected) return `${via.name} shows members ${seen}, expected ${expected}`
    const down = o.nodes.filter((n) => members.find((m) => m.endpoint === n.minkms)?.up !== true)
    if (down.length > 0) return `${via.name} shows ${down.map((n) => `${n.name} (${n.minkms})`).join(', ')} down`
    if (typeof writes === 'string') return `write readiness through ${via.name} cannot be read: ${writes}`
    if (!writes) return `the cluster does not accept writes through ${via.name} (/v1/health/ready?write answered not ready)`
    return undefined
  }))
  return problems.find((p) => p !== undefined)
}

/** Polls until every node is up in every node's status and accepts writes, or the deadline passes. */
export async function clusterServes (o: ClusterServesOptions): Promise<ClusterServes> {
  let at = o.clock.now()
  const r = await retryUntil(o.clock, o.deadline, o.pollMs, async () => {
    const problem = await problemOf(o)
    at = o.clock.now()
    return problem === undefined
      ? { ok: true, message: `every node is up in every node's cluster status (${o.nodes.length} members) and accepts writes` }
      : { ok: false, message: problem }
  }, o.signal)
  return { ...r, at }
}
