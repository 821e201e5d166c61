// Building and booting a lab whose id the caller has claimed (lab-ids.ts): CA and secrets, one
// root directory per node with minkms installed, the network, one systemd-nspawn per node; then
// wait for systemd and minkms, and form the Key Managers.
import { mkdir, readFile, rm } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { processRunner, type ProcessRunner } from '../../shared/process-runner.js'
import { cgroupMounts, killLabCgroups, removeLabCgroups } from './cgroups.js'
import { formKeyManagers, saveSecret, type ClusterClientFactory } from './cluster.js'
import { nodeDiagnostics } from './diagnostics.js'
import { httpsGet } from './health.js'
import { acquireNspawnRunDir, ensureHost } from './host.js'
import { agentUnit, agentUrl, installAgent, LAB_CLIENT_NAME, writeAgentClient, type AgentClientFiles } from './lab-agents.js'
import { COORDINATOR_CLIENT_NAME, coordinatorUnit, installAgentSlotClient, installCoordinator, startCoordinator } from './lab-keyroll.js'
import { LabCa } from './lab-ca.js'
import { staleDirs } from './lab-ids.js'
import { planNodes, type KmsRole, type LabLayout, type NodePlan, type NodeRole } from './lab-paths.js'
import { writeLabState, type KeyManagerSecrets, type LabNodeState, type LabState } from './lab-state.js'
import { createBridge, createNodeNetwork, deleteLabNetwork } from './netns.js'
import { startNode, waitForBoot, waitForMinkms } from './node-boot.js'
import { newHsmKey, type ExtraUnit, type LabRootIdentity } from './node-files.js'
import { buildNodeRoot } from './node-root.js'
import type { BindMount } from './nspawn.js'
import { assertEmulatorBuilt, repoRoot } from './repo.js'
import { HOST_BINDS, accountTables } from './thin-root.js'
import { waitFor } from './wait.js'

/** What to build. Everything but the counts exists so that later issues can add to the nodes. */
export interface UpOptions {
  /** Cluster nodes `node1..N` (default 3). */
  nodes?: number
  /** External Key Manager nodes `ext1..M` (default 1). */
  external?: number
  /** The repository to bind at /opt/keyroll (default: the one containing this file). */
  repo?: string
  /**
   * A JavaScript file on the host that the nodes' `minkms` runs instead of the compiled emulator
   * (default: $KEYROLL_LAB_MINKMS_MAIN). Its directory is bound read-only into every node.
   */
  minkmsMain?: string
  /**
   * Also run keyroll-agent on every cluster node (the repository's unit and compiled agent), with
   * certificates from the lab CA, and write a client certificate to `<base>/agents/`.
   */
  agents?: boolean
  /**
   * keyroll as a whole (`--keyroll`): the agents (as `agents`) configured to ask for boot slots,
   * and the node `coord` (no minkms) running keyroll-coordinator with the cluster in its config,
   * started once the cluster is formed, with operator and viewer tokens in `<base>/keyroll/`.
   */
  keyroll?: boolean
  /** The agents' `verify.stableFor` (`--agent-stable-for`; default LAB_AGENT_STABLE_FOR, 1s). */
  agentStableFor?: string
  /**
   * The emulator's root identity mode (`--root-identity`, default `stored`): `derived` makes each
   * node derive its root API key from the HSM that unsealed it at every start, so removing the
   * soft HSM changes a node's identity (test/lab/emulator/README.md, "Root API key").
   */
  rootIdentity?: LabRootIdentity
  /** More units to install (and by default enable) in every node, e.g. keyroll-agent.service. */
  extraUnits?: readonly ExtraUnit[]
  /** More bind mounts into every node. */
  binds?: readonly BindMount[]
  /** Called for every node after its root is built and before it boots, to add files. */
  prepareNode?: (node: NodePlan, root: string) => Promise<void>
  /** Forms the Key Managers (default: keyroll's minkms client). */
  clientFactory?: ClusterClientFactory
  /** Deadline of each waiting phase (default 60 s). */
  timeoutMs?: number
  /** Progress lines. */
  log?: (line: string) => void
  runner?: ProcessRunner
}

/** `up` failed; the message ends with what the nodes said (nspawn logs, minkms journals). */
export class LabStartError extends Error {
  readonly code = 'LAB_START_FAILED'
  constructor (message: string, readonly diagnostics: string, options?: { cause?: unknown }) {
    super(`${message}${diagnostics !== '' ? `\n--- lab diagnostics ---\n${diagnostics}` : ''}`, options)
    this.name = 'LabStartError'
  }
}

/** Where the directory of an overriding `minkmsMain` is bound in the nodes. */
const OVERRIDE_DIR = '/opt/keyroll-minkms-main'

/** The minkms main file that replaces the emulator, if any (`minkmsMain`, else $KEYROLL_LAB_MINKMS_MAIN). */
function minkmsMainOf (opts: UpOptions): string | undefined {
  const envMain = process.env.KEYROLL_LAB_MINKMS_MAIN
  return opts.minkmsMain ?? (envMain === '' ? undefined : envMain)
}

/**
 * The bind mounts into every node (besides the host's system directories): the repository, the
 * overriding minkms main's directory, the caller's. A node booted again later gets the same.
 */
export function labBinds (opts: UpOptions = {}): BindMount[] {
  const main = minkmsMainOf(opts)
  return [
    { host: opts.repo ?? repoRoot(), node: '/opt/keyroll', readOnly: true },
    ...(main !== undefined ? [{ host: dirname(resolve(main)), node: OVERRIDE_DIR, readOnly: true }] : []),
    ...opts.binds ?? []
  ]
}

/** Removes what a stale lab with this id left behind (found by name), keeping the claimed base dir. */
async function clearStale (layout: LabLayout, runner: ProcessRunner): Promise<void> {
  await killLabCgroups(layout.id, { timeoutMs: 10_000 })
  removeLabCgroups(layout.id)
  await deleteLabNetwork(layout, runner)
  for (const d of await staleDirs(layout.id)) await rm(d, { recursive: true, force: true })
}

/** Creates a software HSM key per Key Manager (every node of one must share it, §1.5) and saves them. */
async function createSecrets (layout: LabLayout): Promise<{ hsmKeys: Record<KmsRole, string>, secrets: Record<KmsRole, KeyManagerSecrets> }> {
  await mkdir(layout.secretsDir, { recursive: true, mode: 0o700 })
  const hsmKeys: Record<KmsRole, string> = { cluster: newHsmKey(), external: newHsmKey() }
  const files = (role: KmsRole): KeyManagerSecrets => ({
    hsmKeyFile: join(layout.secretsDir, `${role}.hsm-key`),
    rootKeyFile: join(layout.secretsDir, `${role}.root-api-key`)
  })
  const secrets = { cluster: files('cluster'), external: files('external') }
  for (const role of ['cluster', 'external'] as const) await saveSecret(secrets[role].hsmKeyFile, hsmKeys[role])
  return { hsmKeys, secrets }
}

/** The Key Manager whose secrets a node holds: the coordinator node works on the cluster. */
function kmsRoleOf (role: NodeRole): KmsRole {
  return role === 'coordinator' ? 'cluster' : role
}

/** Waits until every agent answers /health/ready 200 to the lab's client certificate. */
async function waitForAgents (agents: readonly NodePlan[], client: AgentClientFiles, caPem: string, timeoutMs: number): Promise<void> {
  const [cert, key] = await Promise.all([readFile(client.cert, 'utf8'), readFile(client.key, 'utf8')])
  await Promise.all(agents.map(async (a) => await waitFor(async () =>
    (await httpsGet(`${agentUrl(a.address)}/health/ready`, { ca: caPem, client: { cert, key } })).status === 200,
  { timeoutMs, what: `keyroll-agent on ${a.name} to answer /health/ready 200` })))
}

/**
 * Builds and boots lab `layout.id` (already claimed) and returns its state once every node runs
 * systemd and minkms and each Key Manager is formed and ready for writes. On failure the caller
 * still owns the id and must run `downLab`.
 */
export async function upLab (layout: LabLayout, opts: UpOptions = {}): Promise<LabState> {
  const t0 = Date.now()
  const timings: Record<string, number> = {}
  const mark = (phase: string): void => { timings[phase] = Date.now() - t0 }
  const log = opts.log ?? (() => {})
  const runner = opts.runner ?? processRunner
  const timeoutMs = opts.timeoutMs ?? 60_000
  const repo = opts.repo ?? repoRoot()
  const main = minkmsMainOf(opts)
  const withKeyroll = opts.keyroll === true
  const plans = planNodes(layout, { nodes: opts.nodes ?? 3, external: opts.external ?? 1, coordinator: withKeyroll })

  await ensureHost(repo, runner)
  if (main === undefined) assertEmulatorBuilt(repo)
  await clearStale(layout, runner)
  await acquireNspawnRunDir(runner)
  mark('host')

  const ca = await LabCa.create(`keyroll lab ${layout.id} CA`)
  const { hsmKeys, secrets } = await createSecrets(layout)
  const binds = labBinds({ ...opts, repo })
  const nodes: LabNodeState[] = plans.map((p) => ({ ...p, rootKeyFile: secrets[kmsRoleOf(p.role)].rootKeyFile }))
  const agents = opts.agents === true || withKeyroll ? plans.filter((p) => p.role === 'cluster') : []
  const coord = plans.find((p) => p.role === 'coordinator')
  const caFiles = await ca.save(layout.caDir)
  const state: LabState = {
    version: 1,
    id: layout.id,
    base: layout.base,
    repo,
    phase: 'building',
    createdAt: new Date().toISOString(),
    gateway: layout.gateway,
    bridge: layout.bridge,
    ca: caFiles,
    secrets,
    binds: [...HOST_BINDS, ...binds.map((b) => b.node ?? b.host)],
    nodes,
    rootIdentity: opts.rootIdentity ?? 'stored',
    ...(agents.length === 0 ? {} : { agents: { nodes: agents.map((a) => a.name), client: await writeAgentClient(join(layout.base, 'agents'), ca, caFiles.cert) } }),
    timings
  }
  await writeLabState(layout, state)

  await Promise.all([layout.nodesDir, layout.logsDir].map(async (d) => await mkdir(d, { recursive: true, mode: 0o700 })))
  const tables = await accountTables()
  await Promise.all(nodes.map(async (n) => await buildNodeRoot(n, {
    tables,
    ca,
    hsmKey: hsmKeys[kmsRoleOf(n.role)],
    rootIdentity: opts.rootIdentity ?? 'stored',
    ...(main !== undefined && { main: join(OVERRIDE_DIR, basename(main)) }),
    extraUnits: [...opts.extraUnits ?? [], ...(agents.length === 0 ? [] : [await agentUnit(repo)]), ...(coord === undefined ? [] : [await coordinatorUnit(repo)])],
    prepareNode: async (node, root) => {
      if (agents.some((a) => a.name === node.name)) {
        const allowed = [LAB_CLIENT_NAME, ...(coord === undefined ? [] : [COORDINATOR_CLIENT_NAME])]
        await installAgent(root, node, ca, allowed, coord === undefined ? '' : await installAgentSlotClient(root, node, coord, ca), opts.agentStableFor)
      }
      if (node.name === coord?.name) await installCoordinator(root, node, agents, ca)
      await opts.prepareNode?.(node, root)
    }
  })))
  mark('roots')

  await createBridge(layout, runner)
  await Promise.all(nodes.map(async (n) => await createNodeNetwork(layout, n, runner)))
  mark('network')

  const mounts = cgroupMounts()
  for (const n of nodes) await startNode(layout.id, n, binds, mounts, runner)
  state.phase = 'booting'
  await writeLabState(layout, state)
  mark('spawned')

  try {
    await Promise.all(nodes.map(async (n) => await waitForBoot(n, { timeoutMs, log, runner })))
    await writeLabState(layout, state)
    mark('booted')
    await Promise.all(nodes.filter((n) => n.role !== 'coordinator').map(async (n) => await waitForMinkms(n, ca.certPem, { timeoutMs, runner })))
    mark('live')
    await formKeyManagers(nodes, secrets, { ca: ca.certPem, clientFactory: opts.clientFactory ?? createMinkmsClient, timeoutMs, log })
    mark('ready')
    if (state.agents !== undefined) {
      await waitForAgents(agents, state.agents.client, ca.certPem, timeoutMs)
      mark('agents')
    }
    if (coord !== undefined) {
      state.keyroll = await startCoordinator(layout, state, coord, { repo, caFile: caFiles.cert, timeoutMs, runner })
      mark('keyroll')
    }
  } catch (err) {
    throw new LabStartError(`lab ${layout.id} did not start: ${(err as Error).message}`, await nodeDiagnostics(nodes, runner), { cause: err })
  }
  state.phase = 'ready'
  await writeLabState(layout, state)
  log(`lab ${layout.id} up in ${timings.keyroll ?? timings.agents ?? timings.ready} ms (${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join(', ')})`)
  return state
}
