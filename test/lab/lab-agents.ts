// keyroll-agent on a lab's cluster nodes: the real unit (systemd/keyroll-agent.service, running
// the compiled agent from /opt/keyroll/dist), HTTPS on port 7400 with a server certificate from a
// CA, client certificates checked against that CA and pinned by name (tls.allowedClients: the
// person's or test's client certificate, and the coordinator's under --keyroll, never the nodes'
// own boot-slot certificates from the same CA). `lab up --agents` uses the lab CA; agent-lab.ts
// (tests) a CA of its own.
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DURATION_PATTERN, verifyWindowProblems } from '../../shared/change/duration.js'
import type { LabCa } from './lab-ca.js'
import type { NodePlan } from './lab-paths.js'
import { NODE_PATHS, putFile, type ExtraUnit } from './node-files.js'

export const AGENT_PORT = 7400
export const AGENT_UNIT = 'keyroll-agent.service'
export const AGENT_CONFIG = '/etc/keyroll/agent.yaml'
/** CN of the client certificate `lab up` writes for a person calling the agents. */
export const LAB_CLIENT_NAME = 'keyroll lab client'

/**
 * The lab agents' stability window: 1 s, shorter than the agent's shipped 5 s, so that the lab
 * tier's restarts are proved quickly. `lab up --agent-stable-for D` (and `npm run demo --
 * --stable-for D`) sets another, e.g. the shipped 5s to measure what an operator's rollout costs.
 */
export const LAB_AGENT_STABLE_FOR = '1s'
/** The lab agents' verify deadline (the shipped default is 60 s). */
export const LAB_AGENT_DEADLINE = '30s'

/** Why `value` cannot be the lab agents' stability window, or undefined when it can. */
export function labStableForProblem (value: string): string | undefined {
  if (!new RegExp(DURATION_PATTERN).test(value)) return 'expected a duration such as 1s, 5s or 500ms'
  const problems = verifyWindowProblems(LAB_AGENT_DEADLINE, value)
  return problems.length === 0 ? undefined : `${problems.map((p) => p.message).join('; ')} (the lab agents' deadline is ${LAB_AGENT_DEADLINE})`
}

/** The agent config of a lab node; `allowedClients`: the client certificate names it answers. */
export function agentConfig (node: NodePlan, allowedClients: readonly string[], stableFor = LAB_AGENT_STABLE_FOR): string {
  return `# keyroll-agent on ${node.name} (keyroll lab)
node: ${node.name}
unit: minkms.service
stateDir: /var/lib/keyroll-agent
listen:
  host: 0.0.0.0
  port: ${AGENT_PORT}
tls:
  cert: /etc/keyroll/agent.crt
  key: /etc/keyroll/agent.key
  clientCa: /etc/keyroll/client-ca.pem
  allowedClients: ${JSON.stringify(allowedClients)}
minkms:
  endpoint: ${node.address}:${node.port}
  ca: ${NODE_PATHS.caFile}
verify:
  deadline: ${LAB_AGENT_DEADLINE}
  stableFor: ${stableFor}
`
}

/** The agent's unit as the repository ships it, installed in every node but enabled only by {@link installAgent}. */
export async function agentUnit (repo: string): Promise<ExtraUnit> {
  return { name: AGENT_UNIT, content: await readFile(join(repo, 'systemd', AGENT_UNIT), 'utf8'), enable: false }
}

/** Puts the agent's certificate, key, client CA and config into a cluster node's root and enables its unit. */
export async function installAgent (root: string, node: NodePlan, ca: LabCa, allowedClients: readonly string[], extraConfig = '', stableFor = LAB_AGENT_STABLE_FOR): Promise<void> {
  const server = await ca.issue({ commonName: `${node.name} agent`, ips: [node.address], dns: [node.name], usage: ['server'] })
  await putFile(root, '/etc/keyroll/agent.crt', server.cert, 0o644)
  await putFile(root, '/etc/keyroll/agent.key', server.key, 0o600)
  await putFile(root, '/etc/keyroll/client-ca.pem', ca.certPem, 0o644)
  await putFile(root, AGENT_CONFIG, agentConfig(node, allowedClients, stableFor) + extraConfig, 0o640)
  const wants = join(root, 'etc/systemd/system/multi-user.target.wants')
  await mkdir(wants, { recursive: true })
  await symlink(`/etc/systemd/system/${AGENT_UNIT}`, join(wants, AGENT_UNIT))
}

/** Files a client needs to call the agents: certificate, key (0600), and the CA to trust. */
export interface AgentClientFiles { cert: string, key: string, ca: string }

/** Issues a client certificate from `ca` and writes it to `dir` (`client.crt`, `client.key`). */
export async function writeAgentClient (dir: string, ca: LabCa, caFile: string): Promise<AgentClientFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const client = await ca.issue({ commonName: LAB_CLIENT_NAME, usage: ['client'] })
  const files = { cert: join(dir, 'client.crt'), key: join(dir, 'client.key'), ca: caFile }
  await writeFile(files.cert, client.cert, { mode: 0o644 })
  await writeFile(files.key, client.key, { mode: 0o600 })
  return files
}

/** The agent's base URL on a node. */
export function agentUrl (address: string): string {
  return `https://${address}:${AGENT_PORT}`
}

/** A curl line that calls `path` on an agent with the client certificate. */
export function agentCurl (client: AgentClientFiles, url: string, path: string): string {
  return `curl --cacert ${client.ca} --cert ${client.cert} --key ${client.key} ${url}${path}`
}
