// What the per-node preflight answers mean for the migration. minkms tries its `server` entries in
// turn, so a node is fine as long as one server passes every check from where it stands: a server
// failing from some node (or every node) while each node has another passing one is a warning; a
// node left with no passing server, or a node whose agent could not run the preflight, is a
// refusal naming the node and each server's reason.
import type { ExternalKmsPreflightResult, ExternalServerResult } from '../../shared/schemas/preflight.js'

/** One node's preflight: its answer, or why it has none. */
export type NodePreflight = { node: string, result: ExternalKmsPreflightResult } | { node: string, error: string }

/** Refusals (the migration does not go on) and warnings (it does). */
export interface PreflightFindings {
  problems: string[]
  warnings: string[]
}

/** Why a server failed: its first failed check and reason. */
export function serverFailure (s: ExternalServerResult): string {
  for (const name of ['tls', 'auth', 'roundTrip'] as const) {
    const c = s.checks[name]
    if (c.status === 'failed') return `${name}: ${c.reason ?? 'failed'}`
  }
  return 'failed'
}

/** Sorts the answers of every node into problems and warnings. */
export function preflightFindings (servers: readonly string[], answers: readonly NodePreflight[]): PreflightFindings {
  const problems: string[] = []
  const warnings: string[] = []
  const failedFrom = new Map<string, string[]>(servers.map((s) => [s, []]))
  const results = answers.flatMap((a) => 'result' in a ? [a.result] : [])
  for (const a of answers) {
    if ('error' in a) problems.push(`node ${a.node}: the preflight could not run (${a.error})`)
  }
  for (const r of results) {
    for (const s of r.servers) if (!s.ok) failedFrom.get(s.server)?.push(r.node)
  }
  // A server no node can use is named once, before the per-node lines.
  const deadEverywhere = results.length > 0 ? servers.filter((s) => failedFrom.get(s)?.length === results.length) : []
  for (const r of results) {
    const failed = r.servers.filter((s) => !s.ok)
    if (failed.length === 0) continue
    const why = failed.map((s) => `${s.server} (${serverFailure(s)})`).join(', ')
    if (r.reachable === 0 || failed.length === r.servers.length) {
      problems.push(`node ${r.node} cannot use any external server: ${why}`)
    } else {
      const rest = failed.filter((s) => !deadEverywhere.includes(s.server))
      if (rest.length > 0) warnings.push(`node ${r.node} cannot use ${rest.map((s) => `${s.server} (${serverFailure(s)})`).join(', ')}; it will use ${r.servers.filter((s) => s.ok).map((s) => s.server).join(', ')}`)
    }
  }
  for (const s of deadEverywhere) {
    const line = `external server ${s} failed from every node (${results.map((r) => `${r.node}: ${serverFailure(r.servers.find((x) => x.server === s) ?? { server: s, ok: false, checks: { tls: { status: 'failed' }, auth: { status: 'skipped' }, roundTrip: { status: 'skipped' } }, ms: 0 })}`).join('; ')})`
    if (results.every((r) => r.reachable > 0)) warnings.unshift(`${line}; every node reaches another server, so the migration goes on`)
    else problems.unshift(line)
  }
  return { problems, warnings }
}
