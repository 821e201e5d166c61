// Samples and their order statistics for the benchmark: p50/p95 by nearest rank on the sorted
// samples (no interpolation: every number printed is one that was measured).

/** p50, p95, p99 and max of a metric's samples, in ms. */
export interface Summary { n: number, p50: number, p95: number, p99: number, max: number }

/** The nearest-rank percentile `p` (0 < p ≤ 100) of ascending `sorted`: element ⌈p/100·n⌉. */
export function nearestRank (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('no samples')
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(rank, sorted.length) - 1]!
}

/** The summary of `samples`, or undefined when there are none. */
export function summarize (samples: readonly number[]): Summary | undefined {
  if (samples.length === 0) return undefined
  const sorted = [...samples].sort((a, b) => a - b)
  return { n: sorted.length, p50: nearestRank(sorted, 50), p95: nearestRank(sorted, 95), p99: nearestRank(sorted, 99), max: sorted.at(-1)! }
}

/** Named metrics, each a list of samples in ms, kept in the order they were first recorded. */
export class Samples {
  readonly #by = new Map<string, number[]>()

  /** Records `ms` under `metric`; undefined (a milestone that was not reached) is skipped. */
  add (metric: string, ms: number | undefined): void {
    const list = this.#by.get(metric) ?? []
    if (ms !== undefined && Number.isFinite(ms)) list.push(ms)
    this.#by.set(metric, list)
  }

  summary (metric: string): Summary | undefined {
    return summarize(this.#by.get(metric) ?? [])
  }

  metrics (): string[] {
    return [...this.#by.keys()]
  }
}
