// A rollout's strategy with every default filled in. Layers, later wins: the built-in defaults
// (ROLLOUT_STRATEGY_DEFAULTS), the engine's defaults, the cluster's `strategy` in the config, the
// request's `strategy`. Resolved once at start and stored with the rollout, so a config edit
// never changes a rollout that is already running (nor one resumed after a crash).
import { parseDuration } from '../../shared/change/duration.js'
import { ROLLOUT_STRATEGY_DEFAULTS, type ResolvedStrategy, type Strategy } from '../../shared/schemas/rollout.js'

function ms (d: string, field: string): number {
  const v = parseDuration(d)
  if (v === undefined) throw new RangeError(`strategy.${field}: not a duration: ${d}`)
  return v
}

/** Merges the layers (undefined ones skipped) over the built-in defaults. */
export function resolveStrategy (...layers: ReadonlyArray<Strategy | undefined>): ResolvedStrategy {
  const s: Required<Strategy> = { ...ROLLOUT_STRATEGY_DEFAULTS }
  for (const l of layers) {
    if (l === undefined) continue
    for (const [k, v] of Object.entries(l)) if (v !== undefined) (s as Record<string, unknown>)[k] = v
  }
  return {
    maxParallel: s.maxParallel,
    canary: s.canary,
    healthyDeadlineMs: ms(s.healthyDeadline, 'healthyDeadline'),
    progressDeadlineMs: ms(s.progressDeadline, 'progressDeadline'),
    minHealthyTimeMs: ms(s.minHealthyTime, 'minHealthyTime'),
    failureBudget: s.failureBudget,
    autoRevert: s.autoRevert,
    onUnhealthy: s.onUnhealthy,
    stageNext: s.stageNext
  }
}
