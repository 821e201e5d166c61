// Where a rollout's time went, from the finished rollout and its events (all wall-clock ms on the
// host's clock, which the lab's containers share). The ratio the issue asks for is
// wall / Σ restart→verdict: the numerator is the rollout from its creation to its terminal state
// (everything the coordinator does around the restarts: the cluster gate before each node, the
// agent's plan and file writes, the gate after each verdict, minHealthyTime and the gaps between
// nodes all count as overhead); the denominator is each node's own restart → verdict as its agent
// measured it (verdict.timings; stableFor included, as it is part of the agent's verdict).
import type { Rollout, RolloutEvent } from '../../shared/schemas/rollout.js'

/** One node's step, split into its phases (ms; undefined when a milestone is missing). */
export interface StepTiming {
  node: string
  /**
   * the previous node done (the first node: the rollout created) → `applying` stored: the cluster
   * gate before the node, its InvocationID and journal cursor, the boot-slot check.
   */
  prepare?: number
  /** The coordinator's own split of prepare (the `applying` event's `data.prepare`, ms). */
  prepareParts: Record<string, number>
  /**
   * `applying` → restart: the apply request, the agent's plan, file writes, daemon-reload; for a
   * node whose change was staged (`via: 'staged'`), the commit request and the transaction only.
   */
  applyToRestart?: number
  /** How the change was sent: `staged` (committed from the stage) or `apply` (the `applying` event's `data.via`). */
  via?: string
  /** The node's `stage` event: the stage's own time (ms), taken while the node before it restarted. */
  stageMs?: number
  /** Whether that stage succeeded. */
  staged?: boolean
  /** restart → verdict (the agent's own timings): the denominator's share. */
  restartToVerdict?: number
  /** verdict → `healthy`: the coordinator's gate (journal reading, internode, client, write-ready). */
  gate?: number
  /** verdict → `gating` stored: the agent's work after its verdict (commit) and its answer reaching the coordinator. */
  verdictToGating?: number
  /** Each gate check's own time, as its `gate` event reports it. */
  gateChecks: Record<string, number>
  /** `healthy` → `done`: minHealthyTime, then readiness asked again. */
  hold?: number
}

/** The whole rollout. */
export interface RolloutTiming {
  /** createdAt → the terminal `rollout` event. */
  wall: number
  /** Σ restart → verdict over the nodes. */
  restartToVerdictSum: number
  /** wall / restartToVerdictSum. */
  ratio: number
  /** last step done → the terminal event. */
  tail: number
  steps: StepTiming[]
}

const stateAt = (events: readonly RolloutEvent[], type: 'step' | 'rollout', state: string, node?: string): number | undefined =>
  events.find((e) => e.type === type && e.node === node && (e.data as { state?: unknown } | undefined)?.state === state)?.at

const diff = (from: number | undefined, to: number | undefined): number | undefined =>
  from === undefined || to === undefined ? undefined : to - from

/** The timing of a finished rollout; throws when it has no terminal event. */
export function rolloutTiming (rollout: Rollout, events: readonly RolloutEvent[]): RolloutTiming {
  const terminal = [...events].reverse().find((e) => e.type === 'rollout' && ['succeeded', 'failed', 'aborted', 'reverted'].includes(String((e.data as { state?: unknown } | undefined)?.state)))
  if (terminal === undefined) throw new Error(`rollout ${rollout.id} has no terminal event`)
  let previousDone: number | undefined = rollout.createdAt
  const steps = rollout.nodes.map((s): StepTiming => {
    const applying = stateAt(events, 'step', 'applying', s.node)
    const healthy = stateAt(events, 'step', 'healthy', s.node)
    const gating = stateAt(events, 'step', 'gating', s.node)
    const done = stateAt(events, 'step', 'done', s.node) ?? s.finishedAt
    const t = s.verdict?.timings
    const gateChecks: Record<string, number> = {}
    for (const e of events) {
      const d = e.data as { check?: unknown, ms?: unknown } | undefined
      if (e.type === 'gate' && e.node === s.node && typeof d?.check === 'string' && typeof d.ms === 'number') gateChecks[d.check] = d.ms
    }
    const applyingData = events.find((e) => e.type === 'step' && e.node === s.node && (e.data as { state?: unknown } | undefined)?.state === 'applying')?.data as { prepare?: Record<string, unknown>, via?: unknown } | undefined
    const stage = events.find((e) => e.type === 'stage' && e.node === s.node)?.data as { ms?: unknown, ok?: unknown } | undefined
    const prepareParts: Record<string, number> = {}
    for (const [k, v] of Object.entries(applyingData?.prepare ?? {})) if (typeof v === 'number') prepareParts[k] = v
    const prepare = diff(previousDone, applying)
    previousDone = done
    return {
      node: s.node,
      ...opt('prepare', prepare),
      prepareParts,
      ...(typeof applyingData?.via === 'string' ? { via: applyingData.via } : {}),
      ...opt('stageMs', typeof stage?.ms === 'number' ? stage.ms : undefined),
      ...(typeof stage?.ok === 'boolean' ? { staged: stage.ok } : {}),
      ...opt('applyToRestart', diff(applying, t?.restartAt)),
      ...opt('restartToVerdict', diff(t?.restartAt, t?.verdictAt)),
      ...opt('gate', diff(t?.verdictAt, healthy)),
      ...opt('verdictToGating', diff(t?.verdictAt, gating)),
      gateChecks,
      ...opt('hold', diff(healthy, done))
    }
  })
  const sum = steps.reduce((a, s) => a + (s.restartToVerdict ?? 0), 0)
  const wall = terminal.at - rollout.createdAt
  const lastDone = Math.max(...rollout.nodes.map((s) => s.finishedAt ?? 0))
  return {
    wall,
    restartToVerdictSum: sum,
    ratio: wall / sum,
    tail: terminal.at - lastDone,
    steps
  }
}

function opt<K extends string> (key: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined ? {} : { [key]: v } as Record<K, number>
}
