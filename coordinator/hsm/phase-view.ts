// A phase's rollout as the migration shows it per node: the step's state in the migration's
// words, its verdict and gate, the restart-to-verdict time, and how many times minkms started
// anew on the node during the phase (every run seen in its journal other than the one before the
// phase began), which the acceptance holds at one per phase.
import type { HsmNodePhase } from '../../shared/schemas/hsm-migration.js'
import type { NodeStep, Rollout, RolloutEvent } from '../../shared/schemas/rollout.js'
import type { PhaseRuns } from '../store/hsm-migration-store.js'

const STATE: Record<NodeStep['state'], HsmNodePhase['state']> = {
  pending: 'pending',
  applying: 'running',
  gating: 'running',
  healthy: 'running',
  reverting: 'running',
  done: 'done',
  failed: 'failed',
  reverted: 'reverted',
  skipped: 'skipped'
}

/** Runs seen per node during a phase, and the run each node was on before it. */
export type RunsSeen = PhaseRuns

/** Notes the runs a journal event shows (mutates `seen`); true when it added one. */
export function noteRun (seen: RunsSeen, e: Pick<RolloutEvent, 'type' | 'node' | 'data'>): boolean {
  if (e.type !== 'journal' || e.node === undefined) return false
  const id = (e.data as { invocationId?: unknown } | undefined)?.invocationId
  if (typeof id !== 'string' || id === '' || id === seen.before[e.node]) return false
  const list = seen.runs[e.node] ?? []
  if (list.includes(id)) return false
  seen.runs[e.node] = [...list, id]
  return true
}

/** Records each step's run before the phase, the first time a step shows one. */
export function noteBaselines (seen: RunsSeen, rollout: Rollout): void {
  for (const s of rollout.nodes) {
    if (s.invocationBefore !== undefined && seen.before[s.node] === undefined) seen.before[s.node] = s.invocationBefore
  }
}

/** One node's part of the phase from its step (undefined state: not reached). */
export function nodePhaseOf (step: NodeStep, seen: RunsSeen, previous?: HsmNodePhase): HsmNodePhase {
  const runs = seen.runs[step.node]?.length ?? 0
  const restarts = runs > 0 ? runs : (step.result?.restarted === true ? 1 : 0)
  const t = step.verdict?.timings
  // A node done in an earlier run of the phase and left alone by this one keeps its evidence.
  const keep = previous !== undefined && previous.state === 'done' && step.verdict === undefined && step.gate === undefined
  return {
    state: STATE[step.state],
    restarts: Math.max(restarts, previous?.restarts ?? 0),
    ...(step.verdict === undefined ? (keep && previous.verdict !== undefined ? { verdict: previous.verdict } : {}) : { verdict: step.verdict }),
    ...(step.gate === undefined ? (keep && previous.gate !== undefined ? { gate: previous.gate } : {}) : { gate: step.gate }),
    ...(previous?.sealed === undefined ? {} : { sealed: previous.sealed }),
    ...(t === undefined ? (keep && previous.restartToVerdictMs !== undefined ? { restartToVerdictMs: previous.restartToVerdictMs } : {}) : { restartToVerdictMs: Math.max(0, t.verdictAt - t.restartAt) }),
    ...(step.message === undefined ? {} : { message: step.message })
  }
}

/** The first failed step of a rollout, as one sentence naming the node. */
export function failureOf (rollout: Rollout): string {
  const failed = rollout.nodes.find((s) => s.state === 'failed' || s.state === 'reverted')
  if (failed !== undefined) return `node ${failed.node}: ${failed.message ?? failed.result?.message ?? failed.verdict?.summary ?? failed.state}`
  return rollout.message ?? rollout.stop?.message ?? `the rollout ended ${rollout.state}`
}
