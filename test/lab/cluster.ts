// Forming a Key Manager out of freshly booted nodes, the way minkms's documentation does it:
// every node starts as its own single-node cluster with the same HSM key; the root API key
// comes from the startup log; then each other node is added from the first one.
import { chmod, writeFile } from 'node:fs/promises'
import type { ClusterStatus } from '../../shared/minkms/api.js'
import { probe } from './health.js'
import type { KmsRole } from './lab-paths.js'
import type { KeyManagerSecrets, LabNodeState } from './lab-state.js'
import { unitJournal } from './node-shell.js'
import { waitFor } from './wait.js'

/** The part of the minkms client the lab uses. */
export interface ClusterClient {
  addNode (host: string): Promise<void>
  clusterStatus (): Promise<ClusterStatus>
  close (): Promise<void>
}

/** Creates a client for `endpoints` (`host:port`), authenticated with `apiKey`, trusting `ca` (PEM). */
export type ClusterClientFactory = (opts: { endpoints: string[], apiKey: string, ca: string }) => ClusterClient

/** The banner line with the root API key: `API Key        k1:...` (§5.1). */
const API_KEY_LINE = /^API Key\s+(k\d:[A-Za-z0-9_-]+)\s*$/m

/** Waits for minkms's banner on the node and returns the root API key it printed. */
export async function readRootApiKey (node: LabNodeState, opts: { timeoutMs: number }): Promise<string> {
  const leader = node.leaderPid
  if (leader === undefined) throw new Error(`${node.name} has not booted`)
  return await waitFor(async () => {
    // The command the install guide gives for this (§1.3).
    const text = await unitJournal(leader, 'minkms', { grep: 'API Key' })
    return API_KEY_LINE.exec(text)?.[1]
  }, { timeoutMs: opts.timeoutMs, what: `the root API key in ${node.name}'s minkms journal` })
}

/** Writes a secret to `file` with mode 0600. */
export async function saveSecret (file: string, value: string): Promise<void> {
  await writeFile(file, value + '\n', { mode: 0o600 })
  await chmod(file, 0o600)
}

function hostOf (n: LabNodeState): string {
  return `${n.address}:${n.port}`
}

/**
 * Adds `members[1..]` to the cluster of `members[0]`, one at a time (a node joins only a cluster
 * that has a leader), then waits until the first node reports every member up and answers
 * `/v1/health/ready?write` with 200.
 */
export async function formKeyManager (members: readonly LabNodeState[], opts: { apiKey: string, ca: string, clientFactory: ClusterClientFactory, timeoutMs: number }): Promise<void> {
  const [first, ...rest] = members
  if (first === undefined) return
  if (rest.length > 0) {
    const client = opts.clientFactory({ endpoints: [hostOf(first)], apiKey: opts.apiKey, ca: opts.ca })
    try {
      for (const n of rest) await client.addNode(hostOf(n))
      await waitFor(async () => Object.keys((await client.clusterStatus()).nodesUp).length === members.length, {
        timeoutMs: opts.timeoutMs, what: `all ${members.length} nodes up in ${first.name}'s cluster status`
      })
    } finally {
      await client.close()
    }
  }
  await waitFor(async () => await probe(first.address, first.port, 'ready-write', opts.ca) === 200, {
    timeoutMs: opts.timeoutMs, what: `${first.name} to be ready for writes`
  })
}

/**
 * Forms each Key Manager of a lab (the cluster, and the external one when it has nodes) and
 * saves its root API key to its secrets file.
 */
export async function formKeyManagers (nodes: readonly LabNodeState[], secrets: Record<KmsRole, KeyManagerSecrets>, opts: { ca: string, clientFactory: ClusterClientFactory, timeoutMs: number, log: (line: string) => void }): Promise<void> {
  await Promise.all((['cluster', 'external'] as const).map(async (role) => {
    const members = nodes.filter((n) => n.role === role)
    const first = members[0]
    if (first === undefined) return
    const apiKey = await readRootApiKey(first, { timeoutMs: opts.timeoutMs })
    await saveSecret(secrets[role].rootKeyFile, apiKey)
    await formKeyManager(members, { apiKey, ca: opts.ca, clientFactory: opts.clientFactory, timeoutMs: opts.timeoutMs })
    opts.log(`${role} Key Manager ready: ${members.map((m) => m.name).join(', ')}`)
  }))
}
