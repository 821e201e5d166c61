// Cluster membership of one node, persisted as `cluster.json`: the cluster id, this node's id and
// every member's id → host. A fresh node is its own one-node cluster (id 0, random cluster UUID).
import { randomUUID } from 'node:crypto'
import { readJsonFile, writeJsonAtomic } from './atomic-file.js'

export interface ClusterInfo {
  clusterId: string
  /** This node's id. */
  nodeId: number
  /** Node id → `host:port`. */
  nodes: Record<number, string>
}

function isClusterInfo (v: unknown): v is ClusterInfo {
  if (typeof v !== 'object' || v === null) return false
  const c = v as Record<string, unknown>
  return typeof c.clusterId === 'string' && typeof c.nodeId === 'number' && typeof c.nodes === 'object' && c.nodes !== null &&
    Object.entries(c.nodes).every(([k, h]) => /^\d+$/.test(k) && typeof h === 'string')
}

/** Member ids in ascending order. */
export function memberIds (info: ClusterInfo): number[] {
  return Object.keys(info.nodes).map(Number).sort((a, b) => a - b)
}

/** Reads and writes `cluster.json`. */
export class ClusterStore {
  readonly #path: string

  constructor (path: string) {
    this.#path = path
  }

  /** The stored membership, or undefined for a node that never started. Throws on a corrupt file. */
  async load (): Promise<ClusterInfo | undefined> {
    const raw = await readJsonFile(this.#path)
    if (raw === undefined) return undefined
    if (!isClusterInfo(raw)) throw new Error(`${this.#path}: unknown cluster state format`)
    return raw
  }

  async save (info: ClusterInfo): Promise<void> {
    await writeJsonAtomic(this.#path, info)
  }
}

/** A new one-node cluster for `host`. */
export function freshCluster (host: string): ClusterInfo {
  return { clusterId: randomUUID(), nodeId: 0, nodes: { 0: host } }
}
