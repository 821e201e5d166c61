// Names and places of one lab. Everything a lab creates on the host is named from its numeric id,
// so `down` can find it again from the id alone, even when lab.json is missing after a crash, and
// several labs (tap runs test files in parallel) never collide.
import { join } from 'node:path'

/** Parent directory of every lab's base dir (`<LAB_ROOT>/<id>/`). */
export const LAB_ROOT = '/var/tmp/keyroll-lab'
/** Name of the cgroup directory, under each cgroup hierarchy, that holds every lab's cgroups. */
export const CGROUP_PARENT = 'keyroll-lab'
/** The minkms port on every node (minkms's own default). */
export const MINKMS_PORT = 7373
/** Lab ids are the third octet of the lab subnet `10.77.<id>.0/24`. */
export const MAX_LAB_ID = 254
/** Cluster nodes get .11 to .50, external nodes .51 to .90. */
export const MAX_NODES_PER_ROLE = 40
/** Directory (in /run/netns) and interface names are derived with this prefix; keep it short. */
const PREFIX = 'krl'

/** A Key Manager: the cluster keyroll reconfigures (`node1..N`) or the external one (`ext1..M`). */
export type KmsRole = 'cluster' | 'external'

/** A node's role: a Key Manager node, or `coord`, the node that runs keyroll-coordinator (no minkms). */
export type NodeRole = KmsRole | 'coordinator'

/** The coordinator node's name and host number (`10.77.<id>.5`). */
export const COORDINATOR_NODE = { name: 'coord', host: 5 } as const

/** Where one lab lives on the host and what its shared network objects are called. */
export interface LabLayout {
  readonly id: number
  /** `/var/tmp/keyroll-lab/<id>`: node roots, logs, CA, secrets and lab.json. */
  readonly base: string
  readonly nodesDir: string
  readonly logsDir: string
  readonly caDir: string
  readonly secretsDir: string
  /** lab.json: the lab's state, written as it is built (see lab-state.ts). */
  readonly stateFile: string
  /** Who owns the id (see lab-ids.ts). */
  readonly ownerFile: string
  /** First three octets, e.g. `10.77.3`. */
  readonly net: string
  /** The bridge's address, the host side of the lab network. */
  readonly gateway: string
  readonly bridge: string
  /** Prefix shared by all veth names of this lab (`krl<id>v`). */
  readonly vethPrefix: string
  /** Prefix shared by the netns names and nspawn machine names of this lab (`krl<id>-`). */
  readonly netnsPrefix: string
}

/** One node as planned, before anything is created. */
export interface NodePlan {
  /** `node1`, `ext1`: also the node's hostname. */
  readonly name: string
  readonly role: NodeRole
  /** 1-based position within its role. */
  readonly index: number
  readonly address: string
  readonly port: number
  /** `krl<id>-<name>`: netns name and nspawn machine name (unique across labs). */
  readonly netns: string
  /** Host side of the node's veth pair (≤ 15 chars). */
  readonly veth: string
  /** The node's own root directory on the host. */
  readonly root: string
  /** nspawn's output (it runs detached). */
  readonly log: string
}

/** Throws unless `id` is a valid lab id. */
export function assertLabId (id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_LAB_ID) {
    throw new RangeError(`lab id must be an integer from 0 to ${MAX_LAB_ID}, got ${id}`)
  }
}

/** The layout of lab `id`. */
export function labLayout (id: number): LabLayout {
  assertLabId(id)
  const base = join(LAB_ROOT, String(id))
  const net = `10.77.${id}`
  return {
    id,
    base,
    nodesDir: join(base, 'nodes'),
    logsDir: join(base, 'logs'),
    caDir: join(base, 'ca'),
    secretsDir: join(base, 'secrets'),
    stateFile: join(base, 'lab.json'),
    ownerFile: join(base, 'owner.json'),
    net,
    gateway: `${net}.1`,
    bridge: `${PREFIX}${id}br`,
    vethPrefix: `${PREFIX}${id}v`,
    netnsPrefix: `${PREFIX}${id}-`
  }
}

/** Plans `nodes` cluster nodes, `external` external nodes and, with `coordinator`, the node `coord`. */
export function planNodes (layout: LabLayout, counts: { nodes: number, external: number, coordinator?: boolean }): NodePlan[] {
  for (const [what, n, min] of [['nodes', counts.nodes, 1], ['external', counts.external, 0]] as const) {
    if (!Number.isInteger(n) || n < min || n > MAX_NODES_PER_ROLE) {
      throw new RangeError(`${what} must be an integer from ${min} to ${MAX_NODES_PER_ROLE}, got ${n}`)
    }
  }
  const plans: NodePlan[] = []
  const add = (role: NodeRole, index: number, name: string, host: number): void => {
    const netns = `${layout.netnsPrefix}${name}`
    plans.push({
      name,
      role,
      index,
      address: `${layout.net}.${host}`,
      port: MINKMS_PORT,
      netns,
      veth: `${layout.vethPrefix}${plans.length + 1}`,
      root: join(layout.nodesDir, name),
      log: join(layout.logsDir, `${name}.nspawn.log`)
    })
  }
  for (let i = 1; i <= counts.nodes; i++) add('cluster', i, `node${i}`, 10 + i)
  for (let i = 1; i <= counts.external; i++) add('external', i, `ext${i}`, 50 + i)
  if (counts.coordinator === true) add('coordinator', 1, COORDINATOR_NODE.name, COORDINATOR_NODE.host)
  return plans
}
