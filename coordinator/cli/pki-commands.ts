// `keyroll pki init` and `keyroll pki add-agent`: print what was written and where each part goes.
import { PkiError } from '../pki/errors.js'
import { checkNodeName, parseAgentSpec, subjectNames } from '../pki/names.js'
import { agentPaths, caPaths, coordinatorPaths } from '../pki/pki-layout.js'
import { addAgent, initPki, type PkiReport } from '../pki/site-pki.js'
import { reportError } from './command.js'
import { out, printJson } from './output.js'
import { EXIT, type CliIo } from './types.js'

function printReport (io: CliIo, r: PkiReport): void {
  const ca = caPaths(r.dir)
  if (r.ca !== 'kept') out(io, `${r.ca} CA: ${ca.crt} (its key ${ca.key} stays on this machine)`)
  if (r.coordinator !== undefined) {
    const c = coordinatorPaths(r.dir)
    out(io, `coordinator ${r.coordinator.name}: ${c.server.crt} (server: ${[...r.coordinator.dns, ...r.coordinator.ips].join(', ')}), ${c.client.crt} (client)`)
  }
  for (const a of r.agents) {
    out(io, `agent ${a.node}: ${a.status}${a.status === 'unchanged' ? '' : `, ${agentPaths(r.dir, a.node).dir}/{server,client}.{crt,key} (server: ${[...a.ips, ...a.dns].join(', ')})`}`)
  }
  if (r.agents.length > 0) out(io, 'each agents/<node>/agent-tls.yaml is the tls section of that agent\'s config: it answers the coordinator\'s client certificate only (tls.allowedClients)')
  out(io, `copy ${ca.crt} and the coordinator/ or agents/<node>/ directory to each machine; docs/operations.md says where each file goes`)
}

/** `keyroll pki init`. */
export async function pkiInit (io: CliIo, o: { dir: string, coordinatorName: string, coordinatorIp?: string[], agent?: string[], force?: boolean, json?: boolean }): Promise<number> {
  try {
    const name = checkNodeName(o.coordinatorName, '--coordinator-name')
    const report = await initPki({
      dir: o.dir,
      coordinatorName: name,
      coordinatorNames: subjectNames(o.coordinatorIp ?? [], '--coordinator-ip'),
      agents: dedupe((o.agent ?? []).map(parseAgentSpec)),
      ...(o.force === true ? { force: true } : {})
    })
    if (o.json === true) printJson(io, report)
    else printReport(io, report)
    return EXIT.ok
  } catch (err) {
    return reportError(io, err)
  }
}

/** `keyroll pki add-agent`. */
export async function pkiAddAgent (io: CliIo, o: { dir: string, agent: string, force?: boolean, json?: boolean }): Promise<number> {
  try {
    const report = await addAgent({ dir: o.dir, agent: parseAgentSpec(o.agent), ...(o.force === true ? { force: true } : {}) })
    if (o.json === true) printJson(io, report)
    else printReport(io, report)
    return EXIT.ok
  } catch (err) {
    return reportError(io, err)
  }
}

function dedupe<T extends { node: string }> (agents: T[]): T[] {
  const seen = new Set<string>()
  for (const a of agents) {
    if (seen.has(a.node)) throw new PkiError('CRD_PKI_INVALID_INPUT', `agent ${a.node} is named twice; give all its addresses in one --agent ${a.node}=IP,IP`)
    seen.add(a.node)
  }
  return agents
}
