// One node's root directory, complete before boot: the OS skeleton (thin-root.ts), minkms
// (node-files.ts) and whatever the caller adds (extra units, files).
import type { LabCa } from './lab-ca.js'
import type { NodePlan } from './lab-paths.js'
import { installMinkms, installUnit, type ExtraUnit, type LabRootIdentity } from './node-files.js'
import { buildThinRoot, type Account } from './thin-root.js'

/** What every node root of a lab shares. */
export interface NodeRootSpec {
  /** passwd and group with the minkms account (thin-root.ts accountTables). */
  tables: { passwd: string, group: string, account: Account }
  ca: LabCa
  /** `MINIO_KMS_HSM_KEY` of the node's Key Manager. */
  hsmKey: string
  /** Entry point of `minkms` inside the node (default: the compiled emulator). */
  main?: string
  /** The emulator's root identity mode (default `stored`). */
  rootIdentity?: LabRootIdentity
  extraUnits?: readonly ExtraUnit[]
  prepareNode?: (node: NodePlan, root: string) => Promise<void>
}

/** Builds `node.root`. */
export async function buildNodeRoot (node: NodePlan, spec: NodeRootSpec): Promise<void> {
  await buildThinRoot(node.root, spec.tables)
  // The coordinator node runs keyroll-coordinator, not minkms.
  if (node.role !== 'coordinator') {
    await installMinkms(node.root, {
      node,
      account: spec.tables.account,
      hsmKey: spec.hsmKey,
      // The address and name the lab uses, and loopback for clients inside the node (the agent).
      serverCert: await spec.ca.issue({ commonName: node.name, dns: [node.name, 'localhost'], ips: [node.address, '127.0.0.1'] }),
      caPem: spec.ca.certPem,
      ...(spec.main !== undefined && { main: spec.main }),
      ...(spec.rootIdentity !== undefined && { rootIdentity: spec.rootIdentity })
    })
  }
  for (const u of spec.extraUnits ?? []) await installUnit(node.root, u)
  await spec.prepareNode?.(node, node.root)
}
