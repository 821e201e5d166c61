// keyroll in the lab (`lab up --keyroll`): the coordinator on the node `coord`, running the
// repository's hardened unit (systemd/keyroll-coordinator.service) over the compiled tree in
// /opt/keyroll/dist, and the cluster nodes' agents configured to ask it for boot slots. The
// certificates come from the lab CA (its server certificates for the coordinator and the agents,
// client certificates named after each node for the slots); the operator and viewer tokens are
// made with `keyroll token create`, as docs/operations.md tells an operator to.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { processRunner, type ProcessRunner } from '../../shared/process-runner.js'
import { httpsGet } from './health.js'
import { AGENT_PORT } from './lab-agents.js'
import type { LabCa } from './lab-ca.js'
import type { LabLayout, NodePlan } from './lab-paths.js'
import type { LabNodeState, LabState } from './lab-state.js'
import { NODE_PATHS, putFile, type ExtraUnit } from './node-files.js'
import { nodeExec } from './node-shell.js'
import { waitFor } from './wait.js'

export const COORDINATOR_PORT = 7480
export const COORDINATOR_UNIT = 'keyroll-coordinator.service'
export const COORDINATOR_CONFIG = '/etc/keyroll/coordinator.yaml'
/** CN of the coordinator's certificates: the one name besides the lab client's that the agents answer (tls.allowedClients). */
export const COORDINATOR_CLIENT_NAME = 'keyroll-coordinator'
/** The coordinator's state directory in its node (the unit's StateDirectory). */
export const COORDINATOR_STATE = '/var/lib/keyroll-coordinator'
/** The cluster's name in the coordinator's config. */
export const LAB_CLUSTER = 'lab'
/** Where the cluster's root API key goes in the coordinator node (it provisions the gate's probe identity with it). */
export const ADMIN_KEY_FILE = '/etc/keyroll/cluster-admin.key'

/** What a person or test needs to call the lab's coordinator. */
export interface KeyrollFiles {
  url: string
  /** PEM CA of the coordinator's server certificate. */
  ca: string
  operatorTokenFile: string
  viewerTokenFile: string
  cluster: string
}

/** The coordinator's base URL. */
export function coordinatorUrl (coord: NodePlan): string {
  return `https://${coord.address}:${COORDINATOR_PORT}`
}

/** The coordinator config of the lab: one cluster of every cluster node. */
export function coordinatorConfig (coord: NodePlan, cluster: readonly NodePlan[]): string {
  return `# keyroll-coordinator on ${coord.name} (keyroll lab)
listen:
  host: 0.0.0.0
  port: ${COORDINATOR_PORT}
tls:
  cert: /etc/keyroll/coordinator.crt
  key: /etc/keyroll/coordinator.key
  clientCa: /etc/keyroll/ca.pem
stateDir: ${COORDINATOR_STATE}
agents:
  ca: /etc/keyroll/ca.pem
  cert: /etc/keyroll/coordinator-client.crt
  key: /etc/keyroll/coordinator-client.key
slots:
  ttl: 2m
log:
  level: info
clusters:
  - name: ${LAB_CLUSTER}
    minkms:
      ca: /etc/keyroll/ca.pem
      adminKeyFile: ${ADMIN_KEY_FILE}
    strategy:
      healthyDeadline: 60s
      minHealthyTime: 1s
    nodes:
${cluster.map((n) => `      - name: ${n.name}
        agent: https://${n.address}:${AGENT_PORT}
        minkms: ${n.address}:${n.port}`).join('\n')}
`
}

/** The coordinator's unit as the repository ships it, installed (not enabled) in the coordinator node. */
export async function coordinatorUnit (repo: string): Promise<ExtraUnit> {
  return { name: COORDINATOR_UNIT, content: await readFile(join(repo, 'systemd', COORDINATOR_UNIT), 'utf8'), enable: false }
}

/** Puts the coordinator's certificates, config and state directory into the `coord` node's root. */
export async function installCoordinator (root: string, coord: NodePlan, cluster: readonly NodePlan[], ca: LabCa): Promise<void> {
  const server = await ca.issue({ commonName: COORDINATOR_CLIENT_NAME, ips: [coord.address], dns: [coord.name], usage: ['server'] })
  const client = await ca.issue({ commonName: COORDINATOR_CLIENT_NAME, usage: ['client'] })
  await putFile(root, '/etc/keyroll/coordinator.crt', server.cert, 0o644)
  await putFile(root, '/etc/keyroll/coordinator.key', server.key, 0o600)
  await putFile(root, '/etc/keyroll/coordinator-client.crt', client.cert, 0o644)
  await putFile(root, '/etc/keyroll/coordinator-client.key', client.key, 0o600)
  await putFile(root, '/etc/keyroll/ca.pem', ca.certPem, 0o644)
  await putFile(root, COORDINATOR_CONFIG, coordinatorConfig(coord, cluster), 0o640)
}

/**
 * The agent config's `coordinator` section (boot slots), with a client certificate named after the
 * node. It comes from the lab CA as the agents' other callers' do; the agents' tls.allowedClients
 * keeps it from calling another node's agent.
 */
export async function installAgentSlotClient (root: string, node: NodePlan, coord: NodePlan, ca: LabCa): Promise<string> {
  const client = await ca.issue({ commonName: node.name, dns: [node.name], usage: ['client'] })
  await putFile(root, '/etc/keyroll/agent-client.crt', client.cert, 0o644)
  await putFile(root, '/etc/keyroll/agent-client.key', client.key, 0o600)
  return `coordinator:
  url: ${coordinatorUrl(coord)}
  ca: ${NODE_PATHS.caFile}
  cert: /etc/keyroll/agent-client.crt
  key: /etc/keyroll/agent-client.key
`
}

/**
 * Creates a token with `keyroll token create` inside the coordinator node (its state directory is
 * the node's own /var/lib, which only exists inside the running node) and writes it to `out`
 * (0600) on the host.
 */
export async function createToken (leaderPid: number, role: 'operator' | 'viewer', out: string, runner: ProcessRunner = processRunner): Promise<void> {
  await nodeExec(leaderPid, ['mkdir', '-p', '-m', '0700', COORDINATOR_STATE], {}, runner)
  // `env -u NODE_OPTIONS`: a test runner's loaders (tap adds its own to every child's NODE_OPTIONS)
  // are host paths that do not exist inside the node.
  const r = await nodeExec(leaderPid, ['/usr/bin/env', '-u', 'NODE_OPTIONS', '/usr/bin/node', `${NODE_PATHS.repo}/coordinator/bin/keyroll.js`, 'token', 'create', '--role', role, '--name', `lab-${role}`,
    '--state-dir', COORDINATOR_STATE], { timeoutMs: 30_000 }, runner)
  await writeFile(out, r.stdout.trim() + '\n', { mode: 0o600 })
}

/**
 * Once the cluster is formed: gives the coordinator the cluster's root API key, makes the
 * operator and viewer tokens, starts keyroll-coordinator in `coord` and waits for its
 * /health/ready.
 */
export async function startCoordinator (layout: LabLayout, state: LabState, coord: NodePlan, opts: { repo: string, caFile: string, timeoutMs: number, runner?: ProcessRunner }): Promise<KeyrollFiles> {
  const node = state.nodes.find((n): n is LabNodeState & { leaderPid: number } => n.name === coord.name && n.leaderPid !== undefined)
  if (node === undefined) throw new Error(`${coord.name} has not booted`)
  const rootKey = (await readFile(state.secrets.cluster.rootKeyFile, 'utf8')).trim()
  await putFile(coord.root, ADMIN_KEY_FILE, rootKey + '\n', 0o600)
  const dir = join(layout.base, 'keyroll')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const files: KeyrollFiles = {
    url: coordinatorUrl(coord),
    ca: opts.caFile,
    operatorTokenFile: join(dir, 'operator.token'),
    viewerTokenFile: join(dir, 'viewer.token'),
    cluster: LAB_CLUSTER
  }
  await createToken(node.leaderPid, 'operator', files.operatorTokenFile, opts.runner)
  await createToken(node.leaderPid, 'viewer', files.viewerTokenFile, opts.runner)
  await nodeExec(node.leaderPid, ['systemctl', 'start', '--no-block', COORDINATOR_UNIT], {}, opts.runner)
  const ca = await readFile(opts.caFile, 'utf8')
  try {
    await waitFor(async () => (await httpsGet(`${files.url}/health/ready`, { ca, timeoutMs: 2000 }).catch(() => ({ status: 0 }))).status === 200,
      { timeoutMs: opts.timeoutMs, what: `keyroll-coordinator on ${coord.name} to answer /health/ready 200` })
  } catch (err) {
    // What the coordinator said is the diagnosis.
    const journal = await nodeExec(node.leaderPid, ['journalctl', '-u', COORDINATOR_UNIT, '-o', 'cat', '--no-pager', '-n', '40'], { okCodes: [0, 1] }, opts.runner).then((r) => r.stdout, () => '(no journal)')
    throw new Error(`${(err as Error).message}\n--- journalctl -u ${COORDINATOR_UNIT} on ${coord.name}:\n${journal}`, { cause: err })
  }
  return files
}
