// Where a migration's wall time went, from its events: the migration's own (provisioning,
// preflight, each phase's rollout start, the check of every node's sealed copy before phase B)
// and its rollouts' forwarded ones (each node's step states, its verdict with the agent's restart
// and verdict times). Every span runs from one mark to the next, so the spans add up to the
// migration's wall time exactly: the overhead ratio's numerator, taken apart.
import type { HsmMigration, HsmMigrationEvent } from '../../shared/schemas/hsm-migration.js'
import { formatMs } from './demo-report.js'

/** What a span of time was spent on (the overhead ratio's parts). */
export type SpanKind = 'restart' | 'gate' | 'hold' | 'node' | 'fixed'

/** One span: from the mark before it to its own. */
export interface Span {
  /** 'A' or 'B' inside a phase's rollout. */
  phase?: 'A' | 'B'
  node?: string
  label: string
  kind: SpanKind
  ms: number
}

/** The spans, and their sums per kind. */
export interface Breakdown {
  totalMs: number
  spans: Span[]
  sums: Record<SpanKind, number>
}

interface Mark { at: number, label: string, kind: SpanKind, phase?: 'A' | 'B', node?: string }

const KIND_WORDS: Record<SpanKind, string> = {
  restart: 'restart to verdict (the nodes\' own time)',
  gate: 'gates after the verdicts',
  hold: 'holds (minHealthyTime, then the next node\'s reads)',
  node: 'per node besides: prepare, apply up to the restart, verdict to the coordinator',
  fixed: 'provisioning, preflight, starting the phases, between them, the end'
}

function dataOf (e: HsmMigrationEvent): Record<string, unknown> {
  return typeof e.data === 'object' && e.data !== null ? e.data as Record<string, unknown> : {}
}

function rolloutPhase (e: HsmMigrationEvent): 'A' | 'B' | undefined {
  return e.phase === 'A' || e.phase === 'B' ? e.phase : undefined
}

/**
 * The breakdown of `m` (finished) from its events in index order. Marks that are missing (a node
 * that did not restart has no restart time) merge their span into the next one.
 */
export function migrationBreakdown (m: Pick<HsmMigration, 'createdAt' | 'finishedAt' | 'updatedAt'>, events: readonly HsmMigrationEvent[]): Breakdown {
  const marks: Mark[] = []
  const mark = (at: number | undefined, label: string, kind: SpanKind, where: { phase?: 'A' | 'B', node?: string } = {}): void => {
    if (at !== undefined && Number.isFinite(at)) marks.push({ at, label, kind, ...where })
  }
  const last = <T>(list: readonly T[], pred: (x: T) => boolean): T | undefined => [...list].reverse().find(pred)
  mark(events.find((e) => e.type === 'provision')?.at, 'stored, runner started', 'fixed')
  mark(last(events, (e) => e.type === 'provision')?.at, 'provisioning', 'fixed')
  mark(last(events, (e) => e.type === 'preflight')?.at, 'preflight from every node', 'fixed')

  let previousDone: { phase: 'A' | 'B', node: string } | undefined
  for (const e of events) {
    const d = dataOf(e)
    const phase = rolloutPhase(e)
    if (e.type === 'phase' && phase !== undefined && d.phase === phase && d.rollout === undefined && e.message === `phase ${phase}`) {
      mark(e.at, phase === 'A' ? 'phase A begins' : 'phase A\'s rollout ends, phase B begins', 'fixed')
    } else if (e.type === 'phase' && phase === 'B' && e.message.startsWith('every node shows')) {
      mark(e.at, 'every node\'s sealed copy checked', 'fixed', { phase })
    } else if (e.type === 'phase' && phase !== undefined && typeof d.rollout === 'string') {
      mark(e.at, 'revision, plan and start of the rollout', 'fixed', { phase })
    } else if (e.type === 'verdict' && phase !== undefined && e.node !== undefined) {
      const t = typeof d.timings === 'object' && d.timings !== null ? d.timings as { restartAt?: number, verdictAt?: number } : {}
      mark(t.restartAt, 'apply up to the restart', 'node', { phase, node: e.node })
      mark(t.verdictAt, 'restart to verdict', 'restart', { phase, node: e.node })
    } else if (e.type === 'step' && phase !== undefined && e.node !== undefined) {
      const where = { phase, node: e.node }
      switch (d.state) {
        case 'applying':
          mark(e.at, previousDone === undefined || previousDone.phase !== phase
            ? 'first node prepared (cluster gate reads, journal cursor)'
            : `prepared after ${previousDone.node} (reads begun as its hold ended)`, 'node', where)
          break
        case 'gating': mark(e.at, 'verdict to the coordinator', 'node', where); break
        case 'healthy': mark(e.at, 'gate', 'gate', where); break
        case 'done':
          mark(e.at, 'hold', 'hold', where)
          previousDone = { phase, node: e.node }
          break
      }
    } else if (e.type === 'phase' && phase === 'B' && e.message.includes('promoting')) {
      mark(e.at, 'canary done, promoted', 'fixed', { phase })
    }
  }
  mark(m.finishedAt ?? m.updatedAt, 'the last rollout ends, the migration is stored as done', 'fixed')

  const spans: Span[] = []
  let from = m.createdAt
  for (const k of marks) {
    // Clocks of one host, but the agent's restart and verdict times and the coordinator's events
    // are taken in different processes: a mark a little out of order counts as no time.
    const ms = Math.max(0, k.at - from)
    spans.push({ label: k.label, kind: k.kind, ms, ...(k.phase === undefined ? {} : { phase: k.phase }), ...(k.node === undefined ? {} : { node: k.node }) })
    from = Math.max(from, k.at)
  }
  const sums: Record<SpanKind, number> = { restart: 0, gate: 0, hold: 0, node: 0, fixed: 0 }
  for (const s of spans) sums[s.kind] += s.ms
  return { totalMs: spans.reduce((a, s) => a + s.ms, 0), spans, sums }
}

/** The breakdown as lines: one per span, then the sums per kind with their share of the ratio. */
export function breakdownLines (b: Breakdown): string[] {
  const lines: string[] = []
  let node = ''
  let row: string[] = []
  const flush = (): void => {
    if (row.length > 0) lines.push(`  ${node}: ${row.join(', ')}`)
    row = []
  }
  for (const s of b.spans) {
    const key = s.node === undefined ? '' : `phase ${s.phase ?? '?'} ${s.node}`
    if (key !== node) flush()
    node = key
    if (s.node === undefined) lines.push(`  ${s.phase === undefined ? '' : `phase ${s.phase}: `}${s.label} ${formatMs(s.ms)}`)
    else row.push(`${s.label} ${formatMs(s.ms)}`)
  }
  flush()
  const restart = b.sums.restart
  lines.push(`  total ${formatMs(b.totalMs)}${restart > 0 ? ` = ${(b.totalMs / restart).toFixed(2)} × the restarts' ${formatMs(restart)}` : ''}:`)
  for (const kind of ['restart', 'gate', 'hold', 'node', 'fixed'] as const) {
    lines.push(`    ${KIND_WORDS[kind]}: ${formatMs(b.sums[kind])}${restart > 0 ? ` (${(b.sums[kind] / restart).toFixed(2)})` : ''}`)
  }
  return lines
}
