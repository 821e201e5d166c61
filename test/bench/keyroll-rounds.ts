// keyroll's side of the benchmark: one apply through the agent's HTTPS API per round, timed from
// the verdict's own milestones (wall-clock ms; journal lines at their __REALTIME_TIMESTAMP).
import { generateApiKey } from '../../shared/minkms/keys.js'
import type { ApplyResult } from '../../shared/schemas/apply.js'
import type { Verdict } from '../../shared/schemas/verdict.js'
import type { AgentLab } from '../lab/agent-lab.js'
import type { LabNode } from '../lab/start-lab.js'

/** A verdict's milestones, and how long the client waited for the whole apply. */
export interface KeyrollRound {
  timings: Verdict['timings']
  requestMs: number
}

/** An apply ended other than expected; the message says how (no secrets: results are masked). */
export class RoundError extends Error {
  override readonly name = 'RoundError'
}

async function timedApply (al: AgentLab, node: LabNode, change: unknown): Promise<{ result: ApplyResult, requestMs: number }> {
  const start = Date.now()
  const r = await al.apply(node, change)
  const requestMs = Date.now() - start
  const result = r.result as ApplyResult | undefined
  if (r.status !== 200 || result === undefined) throw new RoundError(`apply: HTTP ${r.status}, no result line: ${r.text.slice(-300)}`)
  return { result, requestMs }
}

/** A restart that must succeed: nothing to write, `restart: always`, verified with `stableFor`. */
export async function keyrollGoodRestart (al: AgentLab, node: LabNode, revision: number, stableFor: string): Promise<KeyrollRound> {
  const { result, requestMs } = await timedApply(al, node, { revision, files: {}, restart: 'always', verify: { deadline: '30s', stableFor } })
  const v = result.verdict
  if (result.result !== 'changed' || !result.restarted || v?.ok !== true) {
    throw new RoundError(`good restart, revision ${revision}: ${result.result}, verdict ${v?.reason ?? 'none'}: ${result.message}`)
  }
  return { timings: v.timings, requestMs }
}

/** A failing restart: the failed verdict's milestones, and a problem with the rollback, if any. */
export interface KeyrollFailedRound extends KeyrollRound {
  /** Why the rollback is not `rolled-back` with a verified restore (undefined when it is). */
  rollbackProblem: string | undefined
}

/**
 * The HSM change with an `auth.key` the external Key Manager does not know: minkms logs FATAL and
 * exits; the agent must fail the verdict, restore the files, restart and verify the restore. The
 * failed verdict is measured even when the rollback itself goes wrong (that is reported apart).
 */
export async function keyrollFailedRestart (al: AgentLab, node: LabNode, revision: number): Promise<KeyrollFailedRound> {
  const { result, requestMs } = await timedApply(al, node, al.hsmChange(revision, generateApiKey('k1').key))
  const v = result.verdict
  if (v === undefined || v.ok || result.failedStep !== 'verify') {
    throw new RoundError(`bad restart, revision ${revision}: ${result.result} at ${result.failedStep ?? 'no step'}, verdict ${v?.reason ?? 'none'}: ${result.message}`)
  }
  const rb = result.rollbackVerdict
  const rollbackProblem = result.result === 'rolled-back' && rb?.ok === true
    ? undefined
    : `${result.result}, rollback verdict ${rb?.reason ?? 'none'}: ${rb?.summary ?? result.message}`
  return { timings: v.timings, requestMs, rollbackProblem }
}
