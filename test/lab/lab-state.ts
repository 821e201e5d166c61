// lab.json: what a lab is made of, written while it is being built (so a crash leaves a record
// of which processes to stop) and read by `status`, `down` and the tap helper.
import { readFile, rename, writeFile } from 'node:fs/promises'
import type { AgentClientFiles } from './lab-agents.js'
import type { KeyrollFiles } from './lab-keyroll.js'
import type { KmsRole, LabLayout, NodePlan } from './lab-paths.js'
import type { LabRootIdentity } from './node-files.js'
import type { ProcessRef } from './procfs.js'

/** One node of a lab, as built. */
export interface LabNodeState extends NodePlan {
  /** The systemd-nspawn process, once started. */
  nspawn?: ProcessRef
  /** The container's systemd (PID 1 inside), target of nsenter. */
  leaderPid?: number
  /** The root API key file of the node's Key Manager (cluster or external). */
  rootKeyFile: string
}

/** Secrets of one Key Manager (the cluster, or the external one), as files. */
export interface KeyManagerSecrets {
  /** `MINIO_KMS_HSM_KEY` of its nodes (mode 0600). */
  hsmKeyFile: string
  /** Its root API key, read from the first node's journal (mode 0600). */
  rootKeyFile: string
}

/** A lab. */
export interface LabState {
  version: 1
  id: number
  base: string
  /** The repository bound at /opt/keyroll in every node. */
  repo: string
  phase: 'building' | 'booting' | 'ready'
  createdAt: string
  gateway: string
  bridge: string
  /** The lab CA: `cert` is the PEM bundle clients trust; `key` signs more certificates. */
  ca: { cert: string, key: string }
  secrets: Record<KmsRole, KeyManagerSecrets>
  /** Node paths that are bind mounts from the host (not in the node roots). */
  binds: string[]
  nodes: LabNodeState[]
  /** The emulator's root identity mode of every node (absent in labs of earlier versions: `stored`). */
  rootIdentity?: LabRootIdentity
  /** keyroll-agent on the cluster nodes (`up --agents`): their names and the client files to call them. */
  agents?: { nodes: string[], client: AgentClientFiles }
  /** keyroll-coordinator on `coord` (`up --keyroll`): how to call it. */
  keyroll?: KeyrollFiles
  /** Milliseconds from the start of `up` to the end of each phase. */
  timings: Record<string, number>
}

/** Reads lab.json; undefined when it does not exist or cannot be parsed. */
export async function readLabState (layout: LabLayout): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(layout.stateFile, 'utf8')) as LabState
  } catch {
    return undefined
  }
}

/** Replaces lab.json atomically (a reader never sees half a file). */
export async function writeLabState (layout: LabLayout, state: LabState): Promise<void> {
  const tmp = `${layout.stateFile}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 })
  await rename(tmp, layout.stateFile)
}
