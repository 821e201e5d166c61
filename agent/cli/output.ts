// What the CLI prints: Ansible-style `ok:` / `changed:` / `failed:` lines, masked diffs, the
// status line. Every line passes the secret mask. Each printer returns the exit code.
import { Value } from 'typebox/value'
import type { AgentCore, ApplyResult, PlanResult } from '../core.js'
import { maskSecrets } from '../../shared/logger.js'
import { AgentStatusSchema } from '../../shared/schemas/agent-status.js'
import type { RunningCore } from '../core.js'
import { EXIT, type CliIo } from './types.js'

function out (io: CliIo, text: string): void {
  io.stdout.write(maskSecrets(text.endsWith('\n') ? text : `${text}\n`))
}

/** A message as one line (systemctl and journalctl put line breaks in what they print). */
export function oneLine (text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

// Each diff carries its own `---`/`+++` header naming the file: printed as it is, one header per file.
function printDiffs (io: CliIo, plan: PlanResult): void {
  for (const f of plan.files.filter(f => f.changed)) out(io, f.diff)
}

export function printPlan (io: CliIo, plan: PlanResult, core: RunningCore, nodeName: string): number {
  const node = `[${nodeName}]`
  out(io, plan.changed
    ? `changed: ${node} revision ${plan.revision} (would ${plan.restart ? `restart ${core.unit}` : 'not restart'})`
    : `ok: ${node} revision ${plan.revision} (no changes)`)
  printDiffs(io, plan)
  for (const f of plan.files) for (const w of f.warnings ?? []) io.stderr.write(maskSecrets(`warning: ${w}\n`))
  return EXIT.ok
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}

export function printApply (io: CliIo, r: ApplyResult, unit: string, nodeName: string, o: { check?: boolean, diff?: boolean }): number {
  const node = `[${nodeName}]`
  const head = `${node} revision ${r.revision}`
  if (r.result === 'ok') out(io, `ok: ${head}`)
  else if (r.result === 'changed') {
    const t = r.verdict?.timings
    const readyAt = t === undefined ? undefined : Math.max(t.readyLineAt ?? 0, t.healthyAt ?? 0) || t.verdictAt
    const how = o.check === true
      ? `check mode; would ${r.plan.restart ? `restart ${unit}` : 'not restart'}`
      : r.restarted
        ? `restarted ${unit}${t === undefined || readyAt === undefined ? '' : `, ready after ${seconds(readyAt - t.restartAt)}`}`
        : 'no restart'
    out(io, `changed: ${head} (${how})`)
  } else {
    const step = r.failedStep === undefined ? '' : ` (step ${r.failedStep})`
    const tail = r.result === 'rolled-back' ? '; rolled back' : r.result === 'rollback-failed' ? '; ROLLBACK FAILED, the node needs attention' : ''
    out(io, `failed: ${head}: ${r.message}${step}${tail}`)
    for (const v of [r.verdict, r.rollbackVerdict]) {
      if (v === undefined) continue
      out(io, `  verdict: ${v.summary}`)
      for (const l of v.lines) out(io, `    ${l.kind}: ${l.message}`)
    }
  }
  if (o.diff === true) printDiffs(io, r.plan)
  return r.result === 'ok' || r.result === 'changed' ? EXIT.ok : r.result === 'rollback-failed' ? EXIT.needsAttention : EXIT.failed
}

export async function recover (io: CliIo, core: RunningCore, node: string): Promise<number> {
  const r = await core.recover()
  out(io, r.action === 'none' ? `ok: [${node}] revision ${r.revision} (nothing to recover)` : `changed: [${node}] revision ${r.revision} (${r.action} an interrupted change: ${r.message})`)
  return EXIT.ok
}

/**
 * Prints the status. Exit code: 0 when every check passes and no managed file drifted, else 1, so
 * that a script or a monitor can rely on `keyroll-agent status` alone.
 */
export function printStatus (io: CliIo, status: Awaited<ReturnType<AgentCore['status']>>, json: boolean): number {
  const healthy = Object.values(status.checks).every((c) => c.ok) && status.drift.length === 0
  if (json) {
    // The same fields the API shows, nothing more.
    out(io, JSON.stringify(Value.Clean(AgentStatusSchema, Value.Clone(status))))
    return healthy ? EXIT.ok : EXIT.failed
  }
  const u = status.unit.status
  const drift = status.drift.length === 0 ? 'no drift' : `DRIFT in ${status.drift.map(d => d.path).join(', ')}`
  out(io, `[${status.node}] ${status.unit.name} ${u === undefined ? 'state unknown' : `${u.activeState}/${u.subState}`}; revision ${status.appliedRevision} (desired ${status.desiredRevision})${status.applying ? '; applying' : ''}; ${drift}`)
  if (status.lastResult !== undefined) out(io, `  last: ${status.lastResult.result} revision ${status.lastResult.revision} at ${new Date(status.lastResult.at).toISOString()}: ${status.lastResult.message}`)
  out(io, `  checks: ${Object.entries(status.checks).map(([k, c]) => `${k} ${c.ok ? 'ok' : `FAILED (${oneLine(c.message)})`}`).join(', ')}`)
  return healthy ? EXIT.ok : EXIT.failed
}
