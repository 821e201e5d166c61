// What the CLI prints for humans: tables of clusters and nodes, plans with their masked diffs,
// rollouts with each node's step. Every line passes the secret mask (the agents mask diffs and
// journal lines already; this is the second guard). `--json` prints one document instead.
import { maskSecrets } from '../../shared/logger.js'
import type { NodeHealth, ClusterView } from '../../shared/schemas/cluster.js'
import type { ClusterPlan, NodeStep, Rollout } from '../../shared/schemas/rollout.js'
import type { AuditEntry } from '../store/rollout-store.js'
import type { CliIo } from './types.js'
import { cliName } from './cli-name.js'

/** Writes text (one or more lines) to stdout, masked. */
export function out (io: CliIo, text: string): void {
  io.stdout.write(maskSecrets(text.endsWith('\n') ? text : `${text}\n`))
}

/** Prints exactly one JSON document on stdout. */
export function printJson (io: CliIo, value: unknown): void {
  io.stdout.write(maskSecrets(JSON.stringify(value)) + '\n')
}

/** Left-aligned columns, two spaces apart. */
export function table (rows: ReadonlyArray<readonly string[]>): string {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length) })
  return rows.map(r => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)).join('  ')).join('\n')
}

/** Why a node is not healthy, in a few words ('' when it is). */
export function nodeProblem (n: NodeHealth): string {
  if (n.healthy) return ''
  if (!n.agent.reachable) return `agent unreachable${n.agent.error === undefined ? '' : `: ${n.agent.error}`}`
  if (n.agent.ready === false) return 'agent not ready'
  if (n.unit !== undefined && n.unit.activeState !== 'active') return `unit ${n.unit.activeState}/${n.unit.subState}`
  if (n.minkmsReady === false) return 'minkms not ready'
  if (n.drift === true) return 'drift: a managed file was changed by hand'
  return 'not healthy'
}

export function printClusters (io: CliIo, clusters: readonly ClusterView[]): void {
  if (clusters.length === 0) {
    out(io, 'no clusters configured')
    return
  }
  const rows = [['CLUSTER', 'HEALTH', 'NODES', 'ROLLOUT']]
  for (const c of clusters) {
    const sick = c.nodes.filter(n => !n.healthy)
    rows.push([c.name, c.healthy ? 'healthy' : `UNHEALTHY (${sick.map(n => `${n.node}: ${nodeProblem(n)}`).join('; ')})`,
      `${c.nodes.length - sick.length}/${c.nodes.length} healthy`, c.activeRollout ?? '-'])
  }
  out(io, table(rows))
  // A cluster whose root key changed with its HSM: which key the coordinator now uses, and whether it was handed over.
  for (const c of clusters) {
    const k = c.rootKey
    if (k === undefined) continue
    const handed = k.handedOverAt === undefined
      ? `not handed over yet: keyroll cluster root-key ${c.name} --out FILE`
      : `handed over at ${new Date(k.handedOverAt).toISOString()}`
    out(io, `${c.name}: its root API key changed; the coordinator adopted ${k.identity} at ${new Date(k.adoptedAt).toISOString()} (${handed})`)
  }
}

/** From this age a row's answer predates the cache's refresh bound (5 s) and is being refreshed. */
const STALE_NOTE_MS = 5000

export function printNodes (io: CliIo, nodes: readonly NodeHealth[]): void {
  if (nodes.length === 0) {
    out(io, 'no nodes')
    return
  }
  // AGE: the views serve a node's last answer while they refresh it (up to 60 s old), so a
  // revision read seconds after a rollout may still be the one before it; the column says how old
  // each row is, and the note says that asking again shows the refreshed answer.
  const rows = [['CLUSTER', 'NODE', 'HEALTH', 'UNIT', 'MINKMS', 'DRIFT', 'REVISION', 'AGE']]
  for (const n of nodes) {
    const rev = n.appliedRevision === undefined ? '-' : `${n.appliedRevision}${n.desiredRevision !== undefined && n.desiredRevision !== n.appliedRevision ? ` (desired ${n.desiredRevision})` : ''}`
    rows.push([n.cluster, n.node, n.healthy ? 'healthy' : `UNHEALTHY: ${nodeProblem(n)}`,
      n.unit === undefined ? '-' : `${n.unit.activeState}/${n.unit.subState}`,
      n.minkmsReady === undefined ? '-' : n.minkmsReady ? 'ready' : 'not ready',
      n.drift === undefined ? '-' : n.drift ? 'YES' : 'no', rev, n.ageMs === undefined ? '-' : `${Math.round(n.ageMs / 1000)}s`])
  }
  out(io, table(rows))
  if (nodes.some((n) => (n.ageMs ?? 0) >= STALE_NOTE_MS)) out(io, 'rows older than a few seconds are being refreshed: ask again for the current answer')
}

/** A word of a command line, quoted for a POSIX shell when it needs it. */
export function shellWord (s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`
}

export function printPlan (io: CliIo, plan: ClusterPlan, specPath: string): void {
  out(io, `cluster ${plan.cluster}, revision ${plan.revision}`)
  for (const n of plan.nodes) {
    const p = n.plan
    out(io, p.changed
      ? `changed: [${n.node}] revision ${n.appliedRevision} -> ${p.revision} (${p.restart ? 'would restart minkms' : 'no restart'})`
      : `ok: [${n.node}] revision ${n.appliedRevision} (no changes)`)
    for (const f of p.files.filter(f => f.changed)) out(io, f.diff)
    for (const f of p.files) for (const w of f.warnings ?? []) io.stderr.write(maskSecrets(`warning: [${n.node}] ${w}\n`))
  }
  out(io, `plan hash: ${plan.planHash}`)
  out(io, 'to roll it out, run:')
  out(io, `  ${cliName()} rollout start -f ${shellWord(specPath)} --cluster ${shellWord(plan.cluster)} --plan-hash ${plan.planHash}`)
}

function time (ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString()
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/** One node's step in a line: state, how long, why. */
export function stepLine (s: NodeStep): string {
  const took = s.startedAt !== undefined && s.finishedAt !== undefined ? ` in ${seconds(s.finishedAt - s.startedAt)}` : ''
  const why = s.message ?? s.result?.message ?? ''
  return `${s.state}${took}${why === '' ? '' : `: ${oneLine(why)}`}`
}

/** A message as one line (journal and systemctl texts hold line breaks). */
export function oneLine (text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** The evidence of a failed step: the verdict's lines and the gate's failed checks. */
export function stepEvidence (s: NodeStep): string[] {
  const lines: string[] = []
  if (s.verdict !== undefined && (s.state === 'failed' || !s.verdict.ok)) {
    lines.push(`verdict: ${oneLine(s.verdict.summary)}`)
    for (const l of s.verdict.lines) lines.push(`  ${l.kind}: ${oneLine(l.message)}`)
  }
  const g = s.gate
  if (g !== undefined && !g.ok) {
    lines.push(`gate: ${oneLine(g.message)}`)
    for (const [name, c] of Object.entries({ journal: g.journal, internode: g.internode, client: g.client, writeReady: g.writeReady })) {
      if (c !== undefined && !c.ok) lines.push(`  ${name}: ${oneLine(c.message)}`)
    }
  }
  return lines
}

export function printRollout (io: CliIo, r: Rollout): void {
  out(io, `rollout ${r.id} on cluster ${r.cluster}: ${r.state} (revision ${r.revision}, plan ${r.planHash})`)
  out(io, `  started by ${r.createdBy} at ${time(r.createdAt)}; updated ${time(r.updatedAt)}`)
  const s = r.strategy
  out(io, `  strategy: maxParallel ${s.maxParallel}, canary ${s.canary ? 'yes' : 'no'}, failureBudget ${s.failureBudget}, autoRevert ${s.autoRevert ? 'yes' : 'no'}, ` +
    `healthyDeadline ${seconds(s.healthyDeadlineMs)}, minHealthyTime ${seconds(s.minHealthyTimeMs)}, onUnhealthy ${s.onUnhealthy}`)
  const width = Math.max(...r.nodes.map(n => n.node.length), 4)
  for (const n of r.nodes) {
    out(io, `  ${n.node.padEnd(width)}  ${stepLine(n)}`)
    for (const l of stepEvidence(n)) out(io, `  ${' '.repeat(width)}    ${l}`)
  }
  if (r.message !== undefined) out(io, `  ${oneLine(r.message)}`)
  const next = nextStep(r)
  if (next !== undefined) out(io, `  next: ${next}`)
}

/** What an operator can do from the rollout's state, as a command to paste. */
function nextStep (r: Rollout): string | undefined {
  const k = cliName()
  const done = r.nodes.filter((n) => n.state === 'done').map((n) => n.node)
  switch (r.state) {
    case 'pending':
    case 'running': return `${k} rollout watch ${r.id} follows it`
    case 'paused': return `${k} rollout resume ${r.id} goes on (${k} rollout abort ${r.id} stops it)`
    case 'awaiting-promotion': return `${k} rollout promote ${r.id} rolls the other nodes (${k} rollout abort ${r.id} stops here)`
    case 'failed':
    case 'aborted':
      return done.length === 0
        ? undefined
        : `${done.join(', ')} ${done.length === 1 ? 'stays' : 'stay'} on revision ${r.revision}; ${k} rollout rollback ${r.id} returns ${done.length === 1 ? 'it' : 'them'} to the previous revision, or a new rollout completes the others`
    default: return undefined
  }
}

export function printRollouts (io: CliIo, rollouts: readonly Rollout[]): void {
  if (rollouts.length === 0) {
    out(io, 'no rollouts')
    return
  }
  const rows = [['ID', 'CLUSTER', 'STATE', 'REVISION', 'CREATED', 'BY']]
  for (const r of rollouts) rows.push([r.id, r.cluster, r.state, String(r.revision), time(r.createdAt), r.createdBy])
  out(io, table(rows))
}

export function printAudit (io: CliIo, entries: readonly AuditEntry[]): void {
  if (entries.length === 0) {
    out(io, 'no audit entries')
    return
  }
  for (const e of entries) {
    out(io, `#${e.seq} ${time(e.at)} ${e.actor} ${e.action} ${e.target}${e.planHash === undefined ? '' : ` plan ${e.planHash}`}`)
  }
}
