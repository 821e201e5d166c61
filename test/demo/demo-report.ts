// The migration's report as `keyroll hsm migrate --report FILE` writes it (the wire schema in
// shared/schemas/hsm-migration.ts), read back and printed by `npm run demo`, next to what the demo
// measured itself on each node.
import { Value } from 'typebox/value'
import { HsmMigrationReportSchema, type HsmMigrationReport } from '../../shared/schemas/hsm-migration.js'
import type { RestartsByPhase } from './demo-checks.js'

/** The report in `text`, or why it is not one. */
export function parseReport (text: string): { report: HsmMigrationReport } | { error: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return { error: `the report is not JSON: ${(err as Error).message}` }
  }
  if (!Value.Check(HsmMigrationReportSchema, json)) {
    const first = [...Value.Errors(HsmMigrationReportSchema, json)][0]
    return { error: `the report does not match its schema${first === undefined ? '' : `: ${first.instancePath || '/'} ${first.message}`}` }
  }
  return { report: json }
}

/** A duration for people: 850 ms, 12.3 s, 2 min 05 s. */
export function formatMs (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
}

function table (rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd())
}

type Phase = NonNullable<HsmMigrationReport['nodes'][number]['phases']['A']>

function phaseCell (p: Phase | undefined): string {
  if (p === undefined) return '-'
  const timing = p.restartToVerdictMs === undefined ? '' : ` ${formatMs(p.restartToVerdictMs)}`
  const gate = p.gate === undefined ? '' : p.gate.ok ? ', gate ok' : ', gate FAILED'
  return `${p.verdict ?? '?'}${timing}${gate}`
}

/**
 * The migration's overhead: its wall time over the sum of its nodes' restart-to-verdict times (the
 * time the nodes themselves needed, measured in the same run), or undefined when a time is missing.
 * 1.0 would be a migration that costs nothing beyond the restarts; provisioning, preflight, the
 * gates and the reads between nodes are the rest.
 */
export function overheadRatio (r: HsmMigrationReport): { ratio: number, restartsMs: number } | undefined {
  const times = r.nodes.flatMap((n) => [n.phases.A, n.phases.B]).filter((p) => p !== undefined).map((p) => p.restartToVerdictMs)
  if (times.length === 0 || times.some((ms) => ms === undefined || ms <= 0)) return undefined
  const restartsMs = (times as number[]).reduce((a, b) => a + b, 0)
  return { ratio: r.durationMs / restartsMs, restartsMs }
}

/** The report as lines: the result, the time, and per node its restarts and each phase's verdict. */
export function reportLines (r: HsmMigrationReport): string[] {
  const rows = [['NODE', 'RESTARTS', 'PHASE A (verdict, restart to verdict)', 'PHASE B'],
    ...r.nodes.map((n) => [n.name, String(n.restarts), phaseCell(n.phases.A), phaseCell(n.phases.B)])]
  const overhead = overheadRatio(r)
  return [
    `migration ${r.id}: ${r.result} in ${formatMs(r.durationMs)}${r.message === undefined ? '' : ` (${r.message})`}`,
    ...table(rows).map((l) => `  ${l}`),
    ...(overhead === undefined
      ? []
      : [`  overhead: ${overhead.ratio.toFixed(2)} (${formatMs(r.durationMs)} of migration over ${formatMs(overhead.restartsMs)} of restart to verdict, summed over the nodes' phases)`])
  ]
}

/** What the demo found on one node. */
export interface NodeFindings {
  name: string
  restarts: RestartsByPhase
  /** Problems of the config, the env file and the restarts (empty: all held). */
  problems: string[]
}

/** The demo's own per-node findings as lines. */
export function findingsLines (nodes: readonly NodeFindings[]): string[] {
  const rows = [['NODE', 'RESTARTS A/B/OTHER', 'CONFIG, ENV, RESTARTS'],
    ...nodes.map((n) => [n.name, `${n.restarts.A}/${n.restarts.B}/${n.restarts.other}`, n.problems.length === 0 ? 'ok' : `${n.problems[0] ?? ''}${n.problems.length > 1 ? ` (+${n.problems.length - 1} more, below)` : ''}`])]
  return table(rows).map((l) => `  ${l}`)
}
