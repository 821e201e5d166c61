// Which of the runs seen after the baseline is OURS: the one our restart started.
//
// Not simply "the first InvocationID other than the baseline's". A unit that is crash-looping
// when the baseline is taken (the rollback case: the bad config keeps failing under
// Restart=always) gets new runs from systemd itself between the baseline and our restart job;
// those runs, and their FATAL lines, say nothing about our restart. Measured on systemd 252
// (test/lab/agent-os.test.ts hit it on the 2nd of 5 back-to-back restarts of a failing unit):
//  - a run systemd restarted by itself has NRestarts ≥ 1 and its "Started" line is preceded by
//    "Scheduled restart job, restart counter is at N" (MESSAGE_ID 5eb03494…);
//  - a manual (re)start after `reset-failed` flushes NRestarts to 0, and no such line precedes it.
// So a run is known manual or automatic from its status (authoritative when seen) or else from
// the journal. Ours is the earliest manual run.
//
// Order. Runs follow each other; two runs are never current at once. Every observation says
// "run R was current at some time in [lo, hi]": a status poll gives [issued, answered], a journal
// line gives its timestamp. If some observation of R lies wholly after one of ours, R came after
// ours: our run ended (process exited). Wholly before: R came before ours and is ignored. Until
// the observations separate them, R stays pending and its journal lines wait.

/** What a run is to the verification. */
export type RunKind = 'ours' | 'pre' | 'after' | 'pending'

/** A run other than the baseline's. */
export interface RunInfo {
  id: string
  kind: RunKind
  /** Started manually (true), by systemd's Restart= (false), or not known yet. */
  manual: boolean | undefined
  /** Whether `manual` came from a status (NRestarts), which outranks the journal. */
  manualFromStatus: boolean
  /** Latest start of an observation interval: the run was current at or after this. */
  maxLo: number
  /** Earliest end of an observation interval: the run was current at or before this. */
  minHi: number
  /** Wall ms of its journal "Started" line, when seen. */
  startedAt: number | undefined
}

/** The runs seen since the baseline, and which one is ours. */
export class RunTimeline {
  readonly #baseline: string
  readonly #runs = new Map<string, RunInfo>()
  #ours: RunInfo | undefined

  constructor (baselineInvocation: string) {
    this.#baseline = baselineInvocation
  }

  /** Our run, once known. */
  get ours (): RunInfo | undefined {
    return this.#ours
  }

  /** Every run seen, in the order first seen. */
  get runs (): RunInfo[] {
    return [...this.#runs.values()]
  }

  /** The kind of `inv`; 'baseline' for the replaced run, undefined if never seen. */
  kindOf (inv: string): RunKind | 'baseline' | undefined {
    if (inv === this.#baseline) return 'baseline'
    return this.#runs.get(inv)?.kind
  }

  /**
   * Run `inv` was current somewhere in [lo, hi] (wall ms). `manual` says who started it when the
   * observation tells (`from`: which source said so). Returns the runs whose kind changed.
   */
  observe (inv: string, lo: number, hi: number, opts: { manual?: boolean, from?: 'status' | 'journal', startedAt?: number } = {}): RunInfo[] {
    if (inv === '' || inv === this.#baseline) return []
    let run = this.#runs.get(inv)
    if (run === undefined) {
      run = { id: inv, kind: 'pending', manual: undefined, manualFromStatus: false, maxLo: lo, minHi: hi, startedAt: undefined }
      this.#runs.set(inv, run)
    }
    run.maxLo = Math.max(run.maxLo, lo)
    run.minHi = Math.min(run.minHi, hi)
    if (opts.startedAt !== undefined) run.startedAt ??= opts.startedAt
    if (opts.manual !== undefined && !run.manualFromStatus) {
      run.manual = opts.manual
      run.manualFromStatus = opts.from === 'status'
    }
    return this.#classify()
  }

  #classify (): RunInfo[] {
    const changed: RunInfo[] = []
    if (this.#ours === undefined) {
      const manual = this.runs.filter((r) => r.manual === true).sort((a, b) => a.minHi - b.minHi)
      const first = manual[0]
      if (first === undefined) return changed
      first.kind = 'ours'
      this.#ours = first
      changed.push(first)
    }
    const ours = this.#ours
    for (const r of this.#runs.values()) {
      if (r.kind !== 'pending') continue
      if (r.maxLo > ours.minHi) r.kind = 'after'
      else if (r.minHi < ours.maxLo) r.kind = 'pre'
      else continue
      changed.push(r)
    }
    return changed
  }
}
