// The benchmark's printed report: a table of every metric (p50/p95/max), the ratios against the
// baseline measured in the same run, idle RSS, and the issue's targets marked met / not met.
// Targets are printed, never asserted: wall-clock numbers depend on the machine.
import type { Samples, Summary } from './stats.js'

/** Metric names, also the table's first column. */
export const M = {
  kGoodRestartVerdict: 'keyroll good: restart → verdict ok',
  kGoodReadyVerdict: 'keyroll good: ready line → verdict − stableFor',
  kGoodRestartReady: 'keyroll good: restart → ready line',
  kGoodRequest: 'keyroll good: request → result (client side)',
  kBadFatalVerdict: 'keyroll bad: fatal line → failed verdict',
  kBadRestartVerdict: 'keyroll bad: restart → failed verdict',
  kBadRestartFatal: 'keyroll bad: restart → fatal line',
  kBadRequest: 'keyroll bad: request → rolled-back (restore verified)',
  bGoodRestartKnown: 'baseline good: restart → first health 200',
  bGoodRestartReady: 'baseline good: restart → ready line',
  bBadRestartKnown: 'baseline bad: restart → is-failed says failed',
  bBadFatalKnown: 'baseline bad: fatal line → is-failed says failed',
  bBadRestartFatal: 'baseline bad: restart → fatal line'
} as const

/** What the report needs besides the samples. */
export interface ReportInput {
  samples: Samples
  rounds: number
  stableForMs: number
  /** The agent's idle sample with the largest VmRSS, after the rounds and right after start. */
  rss: { idle: RssKb | undefined, atStart: RssKb | undefined }
  problems: readonly string[]
}

/** Fields of /proc/<pid>/status, kB: VmRSS = RssAnon (the process's own) + RssFile (mapped files: node, libraries) + RssShmem. */
export interface RssKb { vmRss: number, rssAnon: number, rssFile: number }

const TARGET_FATAL_P95_MS = 500
const TARGET_RSS_MB = 80

const ms = (v: number | undefined): string => v === undefined ? '-' : String(Math.round(v))
const mb = (kb: number): number => kb / 1024

function table (header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => `| ${cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join(' | ')} |`
  const rule = `|${widths.map((w, i) => i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`).join('|')}|`
  return [line(header), rule, ...rows.map(line)]
}

/** "keyroll knows 12.3x sooner" (baseline / keyroll), or "... later" when the ratio is below 1. */
function ratioText (baseline: number | undefined, keyroll: number | undefined): string {
  if (baseline === undefined || keyroll === undefined) return 'n/a (no samples)'
  if (keyroll <= 0) return `baseline ${ms(baseline)} ms vs keyroll ${ms(keyroll)} ms`
  const r = baseline / keyroll
  return r >= 1 ? `${r.toFixed(1)}x sooner` : `${(1 / r).toFixed(1)}x later`
}

function ratioRows (s: Samples): string[][] {
  const pairs: Array<[string, string, string]> = [
    ['restart → success known', M.bGoodRestartKnown, M.kGoodRestartVerdict],
    ['failure (fatal line) → failure known', M.bBadFatalKnown, M.kBadFatalVerdict],
    ['restart → failure known', M.bBadRestartKnown, M.kBadRestartVerdict]
  ]
  return pairs.map(([what, b, k]) => {
    const bs = s.summary(b)
    const ks = s.summary(k)
    return [what, `${ms(bs?.p50)} / ${ms(ks?.p50)}`, `${ms(bs?.p95)} / ${ms(ks?.p95)}`,
      `keyroll ${ratioText(bs?.p50, ks?.p50)} (p50), ${ratioText(bs?.p95, ks?.p95)} (p95)`]
  })
}

function targetRows (s: Samples, rssKb: number | undefined): string[][] {
  const fatal: Summary | undefined = s.summary(M.kBadFatalVerdict)
  const met = (ok: boolean | undefined): string => ok === undefined ? 'not measured' : ok ? 'met' : 'NOT MET'
  return [
    [`fatal line → failed verdict p95 ≤ ${TARGET_FATAL_P95_MS} ms`, fatal === undefined ? '-' : `${ms(fatal.p95)} ms`, met(fatal === undefined ? undefined : fatal.p95 <= TARGET_FATAL_P95_MS)],
    [`idle RSS ≤ ${TARGET_RSS_MB} MB`, rssKb === undefined ? '-' : `${mb(rssKb).toFixed(1)} MB`, met(rssKb === undefined ? undefined : mb(rssKb) <= TARGET_RSS_MB)]
  ]
}

/** The report as lines of text (Markdown tables, so they paste into docs/benchmarks.md). */
export function report (i: ReportInput): string[] {
  const rows = i.samples.metrics().map((m) => {
    const s = i.samples.summary(m)
    return [m, String(s?.n ?? 0), ms(s?.p50), ms(s?.p95), ms(s?.max)]
  })
  const rss = (r: RssKb | undefined): string => r === undefined
    ? 'not measured'
    : `${mb(r.vmRss).toFixed(1)} MB (VmRSS ${r.vmRss} kB = RssAnon ${mb(r.rssAnon).toFixed(1)} MB + RssFile ${mb(r.rssFile).toFixed(1)} MB + shmem)`
  return [
    `keyroll-agent verdict benchmark: ${i.rounds} rounds of each kind, good restarts verified with stableFor ${i.stableForMs} ms; baseline polls every 1 s`,
    '',
    ...table(['metric', 'n', 'p50 ms', 'p95 ms', 'max ms'], rows),
    '',
    'Ratios (baseline / keyroll, same run):',
    '',
    ...table(['compared', 'p50 ms baseline / keyroll', 'p95 ms baseline / keyroll', 'ratio'], ratioRows(i.samples)),
    '',
    `Idle RSS of keyroll-agent (max of samples over ~2 s, no apply running): after the rounds ${rss(i.rss.idle)}; right after start ${rss(i.rss.atStart)}`,
    '',
    'Targets (issue 3; printed, not asserted):',
    '',
    ...table(['target', 'measured', 'status'], targetRows(i.samples, i.rss.idle?.vmRss)),
    '',
    i.problems.length === 0 ? 'Problems seen: none' : `Problems seen (${i.problems.length}):`,
    ...i.problems.map((p) => `  - ${p}`)
  ]
}
