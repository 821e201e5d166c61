// What a lab looks like from outside: the `status` views, and the list of anything a lab id
// still holds on the host (used by `down` callers and tests to prove nothing is left behind).
import { existsSync } from 'node:fs'
import { processRunner, type ProcessRunner } from '../../shared/process-runner.js'
import { cgroupMounts, cgroupPids, labCgroupDirs } from './cgroups.js'
import { mountsBelow, nspawnMachineState } from './host.js'
import { agentCurl, agentUrl, type AgentClientFiles } from './lab-agents.js'
import { externalKms, hsmMigrateCommand, type ExternalKms } from './lab-external.js'
import type { KeyrollFiles } from './lab-keyroll.js'
import { readOwner, staleDirs } from './lab-ids.js'
import { labLayout, type NodeRole } from './lab-paths.js'
import type { LabState } from './lab-state.js'
import { labNetworkObjects } from './netns.js'
import type { LabRootIdentity } from './node-files.js'
import { isRunning } from './procfs.js'

/** One node in `status --json`. */
export interface NodeStatus {
  name: string
  role: NodeRole
  address: string
  port: number
  leaderPid: number | null
  /** The node's root directory on the host. */
  root: string
  /** The root API key file of its Key Manager. */
  rootKeyFile: string
  running: boolean
}

/** `status --json`. */
export interface LabStatus {
  id: number
  phase: LabState['phase']
  /** The emulator's root identity mode (`up --root-identity`): `stored` keeps each node's root API key across HSM changes, `derived` derives it from the HSM at every start. */
  rootIdentity: LabRootIdentity
  /** The lab CA bundle (PEM) to trust. */
  ca: string
  base: string
  owner: { kind: string, pid: number } | null
  nodes: NodeStatus[]
  /** keyroll-agent on the cluster nodes (`up --agents`); empty without. */
  agents: Array<{ node: string, url: string }>
  /** The client certificate, its key and the CA to call the agents with; null without agents. */
  client: AgentClientFiles | null
  /** keyroll-coordinator (`up --keyroll`): its URL, CA, token files and the cluster's name; null without. */
  keyroll: KeyrollFiles | null
  /** The external Key Manager (`up --external M`, M ≥ 1): what an HSM migration onto it needs; null without. */
  external: ExternalKms | null
}

/** The status view of a lab. */
export async function labStatus (state: LabState): Promise<LabStatus> {
  const owner = await readOwner(labLayout(state.id))
  return {
    id: state.id,
    phase: state.phase,
    rootIdentity: state.rootIdentity ?? 'stored',
    ca: state.ca.cert,
    base: state.base,
    owner: owner === undefined ? null : { kind: owner.kind, pid: owner.pid },
    nodes: state.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      address: n.address,
      port: n.port,
      leaderPid: n.leaderPid ?? null,
      root: n.root,
      rootKeyFile: n.rootKeyFile,
      running: n.nspawn !== undefined && isRunning(n.nspawn)
    })),
    agents: state.nodes.filter((n) => state.agents?.nodes.includes(n.name) === true).map((n) => ({ node: n.name, url: agentUrl(n.address) })),
    client: state.agents?.client ?? null,
    keyroll: state.keyroll ?? null,
    external: externalKms(state)
  }
}

/** Ready-to-paste commands: minkms health per node, how to use a root API key, each agent's status. */
function howTo (s: LabStatus): string[] {
  const lines = ['minkms (each node answers its health without credentials):']
  // The coordinator's node runs no minkms: its readiness is keyroll's, printed with the keyroll lines.
  for (const n of s.nodes) if (n.role !== 'coordinator') lines.push(`  curl --cacert ${s.ca} https://${n.address}:${n.port}/v1/health/ready`)
  lines.push('root API keys are not bearer tokens: minkms turns the key into a client certificate (mTLS). With the minkms CLI (where installed):')
  for (const role of ['cluster', 'external'] as const) {
    const n = s.nodes.find((x) => x.role === role)
    if (n !== undefined) lines.push(`  SSL_CERT_FILE=${s.ca} MINIO_KMS_SERVER=https://${n.address}:${n.port} minkms ls-enclave -a "$(cat ${n.rootKeyFile})"`)
  }
  lines.push("  or in code, keyroll's client: createMinkmsClient({ endpoints, apiKey, ca }) from shared/minkms/client.ts")
  if (s.client !== null) {
    lines.push(`keyroll-agent (HTTPS with a client certificate): cert ${s.client.cert}, key ${s.client.key}, CA ${s.client.ca}`)
    for (const a of s.agents) lines.push(`  ${a.node}: ${agentCurl(s.client, a.url, '/v1/status')}`)
    const first = s.agents[0]
    if (first !== undefined) {
      lines.push(`  plan a change (YAML spec, as in the README): ${agentCurl(s.client, first.url, '/v1/plan')} -H 'content-type: application/yaml' --data-binary @change.yaml`)
    }
  }
  if (s.keyroll !== null) {
    lines.push('keyroll (the coordinator on coord; paste these, then e.g. `npx keyroll nodes`):')
    lines.push(...keyrollExports(s.keyroll).map((l) => `  ${l}`))
    if (s.external !== null) {
      lines.push('  move the cluster\'s HSM onto the external Key Manager (what `npm run demo` runs):')
      lines.push(`  ${hsmMigrateCommand(s.keyroll.cluster, s.external)}`)
    }
  }
  return lines
}

/** The three lines that point the `keyroll` CLI at the lab's coordinator (operator token). */
export function keyrollExports (k: KeyrollFiles): string[] {
  return [`export KEYROLL_URL=${k.url}`, `export KEYROLL_CA=${k.ca}`, `export KEYROLL_TOKEN_FILE=${k.operatorTokenFile}`]
}

/** A readable table of the status. */
export function statusTable (s: LabStatus): string {
  const rows = [['NODE', 'ROLE', 'ADDRESS', 'LEADER', 'STATE', 'ROOT'], ...s.nodes.map((n) => [
    n.name, n.role, `${n.address}:${n.port}`, String(n.leaderPid ?? '-'), n.running ? 'running' : 'stopped', n.root
  ])]
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd())
  const keys = [...new Set(s.nodes.map((n) => `${n.role} root API key: ${n.rootKeyFile}`))]
  const hint = 'inside a node: nsenter -t <LEADER> -a /bin/bash   (or: ... -a journalctl -u minkms)'
  return [`lab ${s.id} (${s.phase}) in ${s.base}`, `root identity: ${s.rootIdentity} (emulator mode)`, `CA: ${s.ca}`, ...keys, `nspawn logs: ${s.base}/logs`, hint, '', ...table, '', ...howTo(s)].join('\n')
}

/** Everything lab `id` still holds on the host: processes, cgroups, interfaces, namespaces, mounts, files. */
export async function labLeftovers (id: number, runner: ProcessRunner = processRunner): Promise<string[]> {
  const layout = labLayout(id)
  const left: string[] = []
  for (const dir of labCgroupDirs(id, cgroupMounts())) {
    if (!existsSync(dir)) continue
    left.push(`cgroup ${dir}`)
    for (const pid of cgroupPids(dir)) left.push(`process ${pid} in ${dir}`)
  }
  const net = await labNetworkObjects(layout, runner)
  left.push(...net.links.map((l) => `link ${l}`), ...net.netns.map((n) => `netns ${n}`))
  left.push(...mountsBelow(layout.base).map((m) => `mount ${m}`))
  left.push(...(await nspawnMachineState(layout.netnsPrefix)).map((d) => `nspawn state ${d}`))
  if (existsSync(layout.base)) left.push(`dir ${layout.base}`)
  left.push(...(await staleDirs(id)).map((d) => `dir ${d}`))
  return left
}
