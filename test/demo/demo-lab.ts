// What the demo reads from and does on the lab, outside the migration: the nodes' managed files
// (from their roots on the host), their journals (inside each node), the cluster's own view of
// its HSMs, and encrypt→decrypt round trips through each node. Journal texts may hold the
// cluster's root API key (minkms prints it at start): they are checked, never printed.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { isAlreadyExists } from '../../shared/minkms/errors.js'
import type { LabStatus, NodeStatus } from '../lab/lab-status.js'
import { NODE_PATHS } from '../lab/node-files.js'
import { nodeExec } from '../lab/node-shell.js'
import type { NodeHsms } from './demo-checks.js'

/** A node's minkms config and env file, read from its root on the host. */
export interface NodeFiles { config: string, env: string }

export async function readNodeFiles (n: NodeStatus): Promise<NodeFiles> {
  const [config, env] = await Promise.all([NODE_PATHS.config, NODE_PATHS.envFile].map(async (p) => await readFile(join(n.root, p), 'utf8')))
  return { config: config ?? '', env: env ?? '' }
}

function leader (n: NodeStatus): number {
  if (n.leaderPid === null) throw new Error(`${n.name} is not running`)
  return n.leaderPid
}

/** The cursor after the last entry of `unit` in the node's journal: later reads start there. */
export async function journalCursor (n: NodeStatus, unit: string): Promise<string> {
  const r = await nodeExec(leader(n), ['journalctl', '--no-pager', '-u', unit, '-n', '0', '--show-cursor'])
  const cursor = /^-- cursor: (\S+)$/m.exec(r.stdout)?.[1]
  if (cursor === undefined) throw new Error(`no journal cursor for ${unit} on ${n.name}`)
  return cursor
}

/** The messages of `unit` on the node (`-o cat`), after `cursor` when given. */
export async function journalText (n: NodeStatus, unit: string, cursor?: string): Promise<string> {
  const r = await nodeExec(leader(n), ['journalctl', '--no-pager', '-o', 'cat', '-u', unit, ...(cursor === undefined ? [] : ['--after-cursor', cursor])], { timeoutMs: 60_000 })
  return r.stdout
}

/** Where the cluster nodes answer minkms. */
export function clusterEndpoints (s: LabStatus): string[] {
  return s.nodes.filter((n) => n.role === 'cluster').map((n) => `${n.address}:${n.port}`)
}

/** The cluster's root API key and the lab CA (the load and the checks use them). */
export async function clusterAccess (s: LabStatus): Promise<{ apiKey: string, ca: string }> {
  const node = s.nodes.find((n) => n.role === 'cluster')
  if (node === undefined) throw new Error('the lab has no cluster node')
  return { apiKey: (await readFile(node.rootKeyFile, 'utf8')).trim(), ca: await readFile(s.ca, 'utf8') }
}

/** Creates (or finds) the enclave and key the client load encrypts with. */
export async function prepareLoadKey (s: LabStatus, enclave: string, key: string): Promise<void> {
  const { apiKey, ca } = await clusterAccess(s)
  const client = createMinkmsClient({ endpoints: clusterEndpoints(s), apiKey, ca })
  try {
    await client.createEnclave(enclave).catch((err: unknown) => { if (!isAlreadyExists(err)) throw err })
    await client.createKey(enclave, key).catch((err: unknown) => { if (!isAlreadyExists(err)) throw err })
  } finally {
    await client.close()
  }
}

/** Each node's HSMs as the cluster reports them (CLUSTER:STATUS through any node). */
export async function clusterHsms (s: LabStatus): Promise<NodeHsms[]> {
  const { apiKey, ca } = await clusterAccess(s)
  const client = createMinkmsClient({ endpoints: clusterEndpoints(s), apiKey, ca })
  try {
    return Object.values((await client.clusterStatus()).nodesUp).map((n) => ({ host: n.host, hsms: [...n.hsms], configuredHsms: [...n.configuredHsms] }))
  } finally {
    await client.close()
  }
}

/** One encrypt→decrypt round trip through each node alone; the problems (empty: every node served). */
export async function roundTripEachNode (s: LabStatus, enclave: string, key: string): Promise<string[]> {
  const { apiKey, ca } = await clusterAccess(s)
  const problems: string[] = []
  for (const endpoint of clusterEndpoints(s)) {
    const client = createMinkmsClient({ endpoints: [endpoint], apiKey, ca, timeoutMs: 5000 })
    try {
      const plaintext = Buffer.from(`keyroll demo through ${endpoint}`)
      const sealed = await client.encrypt(enclave, key, plaintext)
      const opened = await client.decrypt(enclave, key, sealed.ciphertext, { version: sealed.version })
      if (!Buffer.from(opened).equals(plaintext)) problems.push(`${endpoint} decrypted other bytes than were encrypted`)
    } catch (err) {
      problems.push(`${endpoint} did not serve an encrypt/decrypt: ${(err as Error).message}`)
    } finally {
      await client.close()
    }
  }
  return problems
}
