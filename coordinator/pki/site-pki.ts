// `keyroll pki init` and `keyroll pki add-agent`: a site's CA and every certificate the coordinator
// and its agents need, in the layout of pki-layout.ts.
//
// Invariants: an existing CA is never replaced without `force` (replacing it invalidates every
// certificate it issued, so `force` re-issues all of them, agents included, from the names in
// their current certificates); adding an agent that exists with the same names changes nothing;
// the CA files are written last, so an interrupted init leaves no CA and can simply run again.
// Each agent gets its config's `tls` section too (agent-tls-config.ts), answering the coordinator
// only; so no agent may carry the coordinator's name, or its certificate would pass for it.
import { X509Certificate } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { CertificateAuthority } from './certificate-authority.js'
import { agentTlsConfig } from './agent-tls-config.js'
import { PkiError } from './errors.js'
import { namesOfSubjectAltName, sameNames, type AgentSpec, type SubjectNames } from './names.js'
import { makeDir, writeCertKey, writePublicText } from './pem-files.js'
import { agentPaths, agentsDir, caPaths, coordinatorPaths } from './pki-layout.js'

/** Options of {@link initPki}. */
export interface PkiInitOptions {
  dir: string
  /** The coordinator's name: CN of its certificates and a DNS name of its server certificate. */
  coordinatorName: string
  /** Other names of the coordinator's server certificate (IPs, DNS names agents use to reach it). */
  coordinatorNames: SubjectNames
  agents: readonly AgentSpec[]
  /** Replace an existing CA (and re-issue every certificate). */
  force?: boolean
  /** The CA's common name (default `keyroll CA <coordinatorName>`). */
  caName?: string
}

/** What a PKI command did. */
export interface PkiReport {
  dir: string
  ca: 'created' | 'replaced' | 'kept'
  coordinator?: SubjectNames & { name: string }
  /** Each agent with what happened to its certificates. */
  agents: Array<{ node: string, status: 'created' | 'reissued' | 'unchanged', ips: string[], dns: string[] }>
}

async function exists (path: string): Promise<boolean> {
  return await readFile(path).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return false
    throw err
  })
}

/** Creates a site's CA, the coordinator's certificates and each agent's. */
export async function initPki (o: PkiInitOptions): Promise<PkiReport> {
  const ca = caPaths(o.dir)
  const had = await exists(ca.crt) || await exists(ca.key)
  if (had && o.force !== true) {
    throw new PkiError('CRD_PKI_CA_EXISTS', `${o.dir} already holds a CA (${ca.crt}); keep it and add agents with keyroll pki add-agent, or run again with --force to replace it and re-issue every certificate`)
  }
  // Agents of the old CA that this run does not name are re-issued with the names they had.
  const previous = had ? await existingAgents(o.dir) : []
  const named = new Set(o.agents.map(a => a.node))
  const agents = [...o.agents, ...previous.filter(a => !named.has(a.node))]
  for (const a of agents) refuseCoordinatorName(a, o.coordinatorName)

  await makeDir(o.dir)
  const authority = await CertificateAuthority.create(o.caName ?? `keyroll CA ${o.coordinatorName}`)
  const coord = coordinatorPaths(o.dir)
  const dns = [...new Set([o.coordinatorName.toLowerCase(), ...o.coordinatorNames.dns])]
  await writeCertKey(coord.server, await authority.issue({ commonName: o.coordinatorName, usage: 'server', dns, ips: o.coordinatorNames.ips }))
  await writeCertKey(coord.client, await authority.issue({ commonName: o.coordinatorName, usage: 'client' }))
  const report: PkiReport['agents'] = []
  for (const a of agents) {
    await issueAgent(authority, o.dir, a, o.coordinatorName)
    report.push({ node: a.node, status: previous.some(p => p.node === a.node) ? 'reissued' : 'created', ips: a.ips, dns: a.dns })
  }
  await writeCertKey(ca, { cert: authority.certPem, key: authority.keyPem })
  return { dir: o.dir, ca: had ? 'replaced' : 'created', coordinator: { name: o.coordinatorName, ips: o.coordinatorNames.ips, dns }, agents: report }
}

/** Options of {@link addAgent}. */
export interface AddAgentOptions {
  dir: string
  agent: AgentSpec
  /** Re-issue an agent that exists with other names. */
  force?: boolean
}

/** Issues an agent's certificates with the site's CA; an agent that exists with the same names is left as it is. */
export async function addAgent (o: AddAgentOptions): Promise<PkiReport> {
  const ca = caPaths(o.dir)
  if (!await exists(ca.crt) || !await exists(ca.key)) {
    throw new PkiError('CRD_PKI_NO_CA', `no CA in ${o.dir} (${ca.crt} and ${ca.key}); run keyroll pki init --dir ${o.dir} first`)
  }
  const authority = await CertificateAuthority.load(await readFile(ca.crt, 'utf8'), await readFile(ca.key, 'utf8'))
  const coordinatorName = await coordinatorNameIn(o.dir)
  refuseCoordinatorName(o.agent, coordinatorName)
  const current = await agentNames(o.dir, o.agent.node)
  const row = { node: o.agent.node, ips: o.agent.ips, dns: o.agent.dns }
  if (current !== undefined && current.issuedByCa && sameNames(current, o.agent) && current.complete) {
    // A directory from before the config section existed gets it; the certificates stay.
    await writeAgentConfig(o.dir, o.agent.node, coordinatorName)
    return { dir: o.dir, ca: 'kept', agents: [{ ...row, status: 'unchanged' }] }
  }
  if (current !== undefined && current.issuedByCa && !sameNames(current, o.agent) && o.force !== true) {
    throw new PkiError('CRD_PKI_AGENT_EXISTS', `agent ${o.agent.node} already has certificates for ${[...current.ips, ...current.dns].join(', ')}; run again with --force to re-issue them for ${[...o.agent.ips, ...o.agent.dns].join(', ')}`)
  }
  await issueAgent(authority, o.dir, o.agent, coordinatorName)
  return { dir: o.dir, ca: 'kept', agents: [{ ...row, status: current === undefined ? 'created' : 'reissued' }] }
}

async function issueAgent (authority: CertificateAuthority, dir: string, a: AgentSpec, coordinatorName: string): Promise<void> {
  const p = agentPaths(dir, a.node)
  await writeCertKey(p.server, await authority.issue({ commonName: a.node, usage: 'server', ips: a.ips, dns: a.dns }))
  // The coordinator knows a booting agent by this CN (boot slots).
  await writeCertKey(p.client, await authority.issue({ commonName: a.node, usage: 'client' }))
  await writeAgentConfig(dir, a.node, coordinatorName)
}

// Written when missing or different only, so adding an unchanged agent changes nothing.
async function writeAgentConfig (dir: string, node: string, coordinatorName: string): Promise<void> {
  const path = agentPaths(dir, node).config
  const text = agentTlsConfig(node, coordinatorName)
  if (await readFile(path, 'utf8').catch(() => undefined) !== text) await writePublicText(path, text)
}

// The agents' configs name the coordinator's client certificate by its CN (the coordinator's name).
function refuseCoordinatorName (a: AgentSpec, coordinatorName: string): void {
  const taken = [a.node, ...a.dns].find(n => n.toLowerCase() === coordinatorName.toLowerCase())
  if (taken !== undefined) throw new PkiError('CRD_PKI_INVALID_INPUT', `agent ${a.node}: "${taken}" is the coordinator's name; the agents answer the certificate of that name only, so give the agent another name`)
}

/** The coordinator's name: the CN of its client certificate in `dir`. */
async function coordinatorNameIn (dir: string): Promise<string> {
  const path = coordinatorPaths(dir).client.crt
  const pem = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new PkiError('CRD_PKI_NO_CA', `no coordinator certificate in ${dir} (${path}); run keyroll pki init --dir ${dir} --force to issue every certificate again`)
    throw err
  })
  const cn = /^CN=(.+)$/m.exec(new X509Certificate(pem).subject)?.[1]
  if (cn === undefined) throw new PkiError('CRD_PKI_INVALID_INPUT', `${path} has no subject CN; run keyroll pki init --dir ${dir} --force`)
  return cn
}

/** An agent's names as its server certificate holds them, and whether the site's CA issued it. */
async function agentNames (dir: string, node: string): Promise<(SubjectNames & { issuedByCa: boolean, complete: boolean }) | undefined> {
  const p = agentPaths(dir, node)
  let pem: string
  try {
    pem = await readFile(p.server.crt, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const cert = new X509Certificate(pem)
  const caCert = new X509Certificate(await readFile(caPaths(dir).crt, 'utf8'))
  const names = namesOfSubjectAltName(cert.subjectAltName)
  const complete = (await Promise.all([p.server.key, p.client.crt, p.client.key].map(exists))).every(Boolean)
  return { ...names, issuedByCa: cert.verify(caCert.publicKey), complete }
}

async function existingAgents (dir: string): Promise<AgentSpec[]> {
  const entries = await readdir(agentsDir(dir), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return []
    throw err
  })
  const out: AgentSpec[] = []
  for (const e of entries.filter(e => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const pem = await readFile(agentPaths(dir, e.name).server.crt, 'utf8').catch(() => undefined)
    if (pem === undefined) continue
    out.push({ node: e.name, ...namesOfSubjectAltName(new X509Certificate(pem).subjectAltName) })
  }
  return out
}
