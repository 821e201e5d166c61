// What `keyroll hsm …` prints for humans: a migration with its report per node (each phase's
// state, restarts, the verdict and its evidence, the gate's checks with their timings, the
// restart-to-verdict time), the list of migrations, and a dry run's findings. Every line passes
// the secret mask (out()); nothing here ever holds the admin key or the API key.
import type { ExternalKmsPreflightResult } from '../../shared/schemas/preflight.js'
import type { HsmMigration, HsmMigrationStartAnswer, HsmNodePhase } from '../../shared/schemas/hsm-migration.js'
import type { ClusterPlan, GateResult } from '../../shared/schemas/rollout.js'
import { oneLine, out, table } from './output.js'
import type { CliIo } from './types.js'
import { cliName } from './cli-name.js'

/** A duration for people: `850 ms`, `4.2 s`, `3 min 12.4 s`. */
export function duration (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1000).toFixed(1)} s`
}

function time (ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString()
}

/** The gate's checks in one line: `gate ok: internode 12 ms via node2, client 8 ms, write-ready 20 ms`. */
export function gateLine (g: GateResult): string {
  const parts: string[] = []
  if (g.journal !== undefined) parts.push(`journal ${g.journal.ok ? 'ok' : 'FAILED'}`)
  if (g.internode !== undefined) parts.push(`internode ${g.internode.ok ? '' : 'FAILED '}${duration(g.internode.ms)}${g.internode.via === undefined ? '' : ` via ${g.internode.via}`}`)
  if (g.client !== undefined) parts.push(`client ${g.client.ok ? '' : 'FAILED '}${duration(g.client.ms)}`)
  if (g.writeReady !== undefined) parts.push(`write-ready ${g.writeReady.ok ? '' : 'FAILED '}${duration(g.writeReady.ms)}`)
  if (g.hsm !== undefined) parts.push(`${g.hsm.name} sealing ${g.hsm.ok ? '' : 'FAILED '}${duration(g.hsm.ms)}`)
  return `gate ${g.ok ? 'ok' : 'FAILED'}${parts.length === 0 ? '' : `: ${parts.join(', ')}`}`
}

/** One node's phase: the summary line, then the evidence lines. */
export function phaseLines (p: HsmNodePhase): string[] {
  const head = [`${p.state}`, `${p.restarts} restart${p.restarts === 1 ? '' : 's'}`]
  if (p.verdict !== undefined) head.push(`verdict ${p.verdict.ok ? 'ok' : 'FAILED'} (${p.verdict.reason})`)
  if (p.sealed !== undefined) head.push(p.sealed ? 'external HSM holds its sealed root key' : 'NO sealed root key on the external HSM')
  if (p.restartToVerdictMs !== undefined) head.push(`restart to verdict ${duration(p.restartToVerdictMs)}`)
  const lines = [head.join(', ')]
  if (p.gate !== undefined) lines.push(gateLine(p.gate))
  if (p.verdict !== undefined) {
    const v = p.verdict
    lines.push(`verdict: ${oneLine(v.summary)}`)
    // The agent's summary usually says it already ("logged its ready line N ms after the restart").
    if (v.timings.readyLineAt !== undefined && !/ready line/.test(v.summary)) lines.push(`  ready line ${duration(v.timings.readyLineAt - v.timings.restartAt)} after the restart`)
    // The evidence lines prove a failure; on success the summary is enough.
    if (!v.ok) for (const l of v.lines) lines.push(`  ${l.kind}: ${oneLine(l.message)}`)
  }
  const g = p.gate
  if (g !== undefined && !g.ok) {
    lines.push(`gate: ${oneLine(g.message)}`)
    for (const [name, c] of Object.entries({ journal: g.journal, internode: g.internode, client: g.client, writeReady: g.writeReady, hsm: g.hsm })) {
      if (c !== undefined && !c.ok) lines.push(`  ${name}: ${oneLine(c.message)}`)
    }
  }
  if (p.message !== undefined) lines.push(oneLine(p.message))
  return lines
}

function preflightLines (results: readonly ExternalKmsPreflightResult[]): string[] {
  const lines: string[] = []
  for (const r of results) {
    lines.push(`  ${r.node}: ${r.ok ? 'ok' : `${r.reachable}/${r.servers.length} servers ok`}`)
    for (const s of r.servers) {
      const failed = Object.entries(s.checks).filter(([, c]) => c.status !== 'ok')
      lines.push(`    ${s.server}: ${s.ok ? `ok in ${duration(s.ms)}` : failed.map(([name, c]) => `${name} ${c.status}${c.reason === undefined ? '' : `: ${oneLine(c.reason)}`}`).join('; ')}`)
    }
  }
  return lines
}

/** A migration in full: the status of `keyroll hsm status` and the final report of `migrate`/`watch`. */
export function printMigration (io: CliIo, m: HsmMigration, now: number = Date.now()): void {
  const done = m.finishedAt !== undefined
  out(io, `HSM migration ${m.id} on cluster ${m.cluster}: ${m.state}${m.state === 'succeeded' || m.state === 'failed' || m.state === 'aborted' ? '' : `, phase ${m.phase}`}` +
    ` (${done ? 'took' : 'running for'} ${duration((m.finishedAt ?? now) - m.createdAt)})`)
  out(io, `  started by ${m.createdBy} at ${time(m.createdAt)}${done ? `; finished ${time(m.finishedAt)}` : `; updated ${time(m.updatedAt)}`}`)
  out(io, `  external Key Manager: ${m.external.join(', ')}; enclave ${m.enclave}, key ${m.key}`)
  const opts = [m.keepLocalHsm ? 'keep the local HSM (phase A only)' : `phase B removes the local HSM key (${m.phaseB === 'all-at-once' ? 'all nodes at once, write outage accepted' : 'rolling'})`, m.replaceHsm ? 'replaces the other HSM block' : '', m.removeLocalSealedCopy ? 'removes the local sealed copy' : ''].filter(s => s !== '')
  out(io, `  ${opts.join('; ')}`)
  const p = m.provision
  if (p !== undefined) out(io, `  provision: enclave ${p.enclave}, identity ${p.identity} (${p.identityId}), key ${p.key} in ${duration(p.ms)}`)
  if (m.preflight !== undefined) {
    out(io, '  preflight:')
    out(io, preflightLines(m.preflight).map(l => `  ${l}`).join('\n'))
  }
  for (const w of m.warnings) out(io, `  warning: ${oneLine(w)}`)
  const rollouts = Object.entries(m.rollouts).filter(([, id]) => id !== undefined).map(([phase, id]) => `${phase} ${String(id)}`)
  if (rollouts.length > 0) out(io, `  rollouts: ${rollouts.join(', ')} (${cliName()} rollout status ID for their detail)`)
  if (m.phaseBStep !== undefined) out(io, `  phase B all at once: ${m.phaseBStep}`)
  if (m.writeOutage !== undefined) {
    out(io, `  write outage: ${Math.round(m.writeOutage.ms)} ms (first commit sent ${time(m.writeOutage.from)} → writes accepted on every node${m.writeOutage.rolledBack ? ', after the rollback of every node' : ''})`)
  }
  const width = Math.max(4, ...m.nodes.map(n => n.name.length))
  for (const n of m.nodes) {
    let first = true
    for (const phase of ['A', 'B'] as const) {
      const np = n.phases[phase]
      if (np === undefined) continue
      const [head, ...rest] = phaseLines(np)
      out(io, `  ${(first ? n.name : '').padEnd(width)}  ${phase}: ${head ?? ''}`)
      for (const l of rest) out(io, `  ${' '.repeat(width)}       ${l}`)
      first = false
    }
  }
  if (m.message !== undefined) out(io, `  ${oneLine(m.message)}`)
  if (m.state === 'failed') out(io, `  once the cause is fixed, ${cliName()} hsm resume ${m.id} continues from phase ${m.phase} (nodes done are not touched again)`)
  if (m.state === 'paused') out(io, `  to go on: ${cliName()} hsm resume ${m.id}`)
}

export function printMigrations (io: CliIo, migrations: readonly HsmMigration[]): void {
  if (migrations.length === 0) {
    out(io, 'no HSM migrations')
    return
  }
  const rows = [['ID', 'CLUSTER', 'STATE', 'PHASE', 'EXTERNAL', 'CREATED', 'BY']]
  for (const m of migrations) rows.push([m.id, m.cluster, m.state, m.phase, m.external.join(','), time(m.createdAt), m.createdBy])
  out(io, table(rows))
}

/** A phase's plan: the masked diffs per node when it is a ClusterPlan, else as JSON. */
function planText (plan: unknown): string {
  const nodes = (plan as Partial<ClusterPlan> | null)?.nodes
  if (!Array.isArray(nodes)) return typeof plan === 'string' ? plan : JSON.stringify(plan, null, 2)
  const lines: string[] = []
  for (const n of nodes) {
    const files = n.plan?.files ?? []
    lines.push(`[${String(n.node)}]${n.plan?.changed === false ? ' no changes' : ''}`)
    for (const f of files) if (f.changed && typeof f.diff === 'string') lines.push(f.diff.replace(/\n$/, ''))
  }
  return lines.join('\n')
}

/** A dry run's findings: what would be provisioned, preflight per node and server, the refusals. */
export function printDryRun (io: CliIo, cluster: string, d: NonNullable<HsmMigrationStartAnswer['dryRun']>): void {
  out(io, `dry run of an HSM migration on cluster ${cluster}: ${d.ok ? 'a real run would start' : 'a real run would be REFUSED'}`)
  if (d.provision !== undefined) out(io, `  provision: enclave ${d.provision.enclave}, identity ${d.provision.identity}, key ${d.provision.key}`)
  if (d.preflight.length > 0) {
    out(io, '  preflight:')
    out(io, preflightLines(d.preflight).map(l => `  ${l}`).join('\n'))
  }
  for (const phase of ['A', 'B'] as const) {
    const plan = d.plans[phase]
    if (plan === undefined) continue
    out(io, `  phase ${phase} would change:`)
    out(io, planText(plan).split('\n').map(l => `    ${l}`).join('\n'))
  }
  for (const w of d.warnings) out(io, `  warning: ${oneLine(w)}`)
  for (const p of d.problems) out(io, `  problem: ${oneLine(p)}`)
}
