// A rollout's strategy with every default filled in. Layers, later wins: the built-in defaults
// (ROLLOUT_STRATEGY_DEFAULTS), the engine's defaults, the cluster's `strategy` in the config, the
// request's `strategy`. Resolved once at start and stored with the rollout, so a config edit
// never changes a rollout that is already running (nor one resumed after a crash).
import { parseDuration } from '../../shared/change/duration.js'
import { ROLLOUT_STRATEGY_DEFAULTS, type ResolvedStrategy, type Strategy } from '../../shared/schemas/rollout.js'

/**
 * The longest duration a strategy field may name: one day. A duration too large to count used to
 * reach resolveStrategy at the rollout's start and fail it with a 500; one over 2^31-1 ms (about
 * 24.8 days) made the engine's timer fire at once (Node's setTimeout overflows to 1 ms), so
 * `minHealthyTime: 1000h` held a node for a millisecond. The API refuses both (400) with this.
 */
export const MAX_STRATEGY_DURATION_MS = 86_400_000

const DURATION_FIELDS = ['healthyDeadline', 'progressDeadline', 'minHealthyTime'] as const

/** Why a request's strategy durations are unusable, per field; empty when they are fine. */
export function strategyProblems (s: Strategy | undefined): Array<{ field: string, message: string }> {
  if (s === undefined) return []
  return DURATION_FIELDS.flatMap((field) => {
    const d = s[field]
    if (d === undefined) return []
    const v = parseDuration(d)
    return v === undefined || v > MAX_STRATEGY_DURATION_MS ? [{ field, message: 'must be at most 24h' }] : []
  })
}

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
