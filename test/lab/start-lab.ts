// The tap helper: `const lab = await startLab(t, { nodes: 3, external: 1 })` boots a lab under a
// freshly allocated id, tears it down in t.teardown (registered before anything is created), and
// gives the test what it needs to act on nodes: exec, systemctl, journal, files, the CA and keys.
import { readFile } from 'node:fs/promises'
import { processRunner, type RunResult } from '../../shared/process-runner.js'
import { hold, release } from './emergency-stop.js'
import { LabCa, type CertKeyPair, type IssueRequest } from './lab-ca.js'
import { downLab } from './lab-down.js'
import { allocateLabId } from './lab-ids.js'
import type { KmsRole, NodeRole } from './lab-paths.js'
import { labLeftovers } from './lab-status.js'
import { writeLabState, type LabNodeState, type LabState } from './lab-state.js'
import { labBinds, upLab, type UpOptions } from './lab-up.js'
import { bootNode, powerOffNode } from './node-power.js'
import { readNodeFile, writeNodeFile, type FileOptions } from './node-fs.js'
import { ANY_EXIT_CODE, nodeExec, unitJournal, type ExecOptions } from './node-shell.js'
import { waitFor } from './wait.js'

/** Why lab tests are skipped (only ever by an explicit KEYROLL_SKIP_LAB=1), or false. */
export const labSkip: string | false = process.env.KEYROLL_SKIP_LAB === '1'
  ? 'KEYROLL_SKIP_LAB=1: lab test skipped (nothing ran against real systemd)'
  : false
if (labSkip !== false) process.stderr.write(`# ${labSkip}\n`)

/** The part of a tap `Test` the helper uses. */
export interface TeardownHost {
  teardown (fn: () => unknown): void
}

/** A node as tests see it. */
export interface LabNode {
  name: string
  role: NodeRole
  address: string
  port: number
  /** The container's systemd. */
  leaderPid: number
  /** The node's root directory on the host. */
  root: string
}

/** A running lab. Node arguments take a node or its name. */
export interface Lab {
  id: number
  base: string
  state: LabState
  nodes: LabNode[]
  /** The node called `name`; throws if there is none. */
  node (name: string): LabNode
  ca: {
    /** The CA certificate (PEM) that every node's server certificate chains to. */
    pem: string
    /** Its file on the host. */
    path: string
    /** Issues another certificate from the lab CA (e.g. for an agent). */
    issue (req: IssueRequest): Promise<CertKeyPair>
  }
  /** The root API key of the cluster or of the external Key Manager. */
  rootKey (role?: KmsRole): string
  /** The `MINIO_KMS_HSM_KEY` of the cluster or of the external Key Manager. */
  hsmKey (role?: KmsRole): string
  /** Runs `argv` inside the node (nsenter, empty environment); rejects on a non-zero exit unless in `okCodes`. */
  exec (node: NodeRef, argv: readonly string[], opts?: ExecOptions): Promise<RunResult>
  /** `systemctl <args>` inside the node; never rejects on the exit code (is-active exits 3 for inactive). */
  systemctl (node: NodeRef, ...args: string[]): Promise<RunResult>
  /** `journalctl -u <unit> -o cat` inside the node. */
  journal (node: NodeRef, unit: string, opts?: { grep?: string }): Promise<string>
  /** Writes a file in the node, atomically; an existing file keeps its mode and owner unless given. */
  writeFile (node: NodeRef, path: string, data: string, opts?: FileOptions): Promise<void>
  readFile (node: NodeRef, path: string): Promise<string>
  waitFor: typeof waitFor
  /**
   * Powers the node off cleanly (SIGTERM to its nspawn: its systemd stops every unit, as on a
   * host's poweroff) and resolves once the container is gone. exec, systemctl and journal refuse
   * the node until it is booted again (its `leaderPid` is 0 meanwhile); files in its root can
   * still be written, as on a disk taken out of a powered-off host.
   */
  powerOff (node: NodeRef): Promise<void>
  /**
   * Boots a powered-off node again: the same root (units, agent, certificates, minkms data,
   * journal), netns and binds. Resolves once its systemd has booted and minkms answers
   * /v1/health/live; the node's `leaderPid` is then the new systemd's.
   */
  boot (node: NodeRef): Promise<void>
  /** Tears the lab down now (the teardown then has nothing left to do). */
  down (): Promise<void>
}

/** A node or its name. */
export type NodeRef = LabNode | string

/** Options of {@link startLab}: those of `upLab` (nodes, external, extraUnits, binds, prepareNode, ...). */
export type StartLabOptions = UpOptions
export type { FileOptions }

/** Boots a lab for the test `t`; its teardown is registered before anything is created. */
export async function startLab (t: TeardownHost, opts: StartLabOptions = {}): Promise<Lab> {
  if (labSkip !== false) throw new Error(`${labSkip}; guard the test with { skip: labSkip }`)
  const layout = await allocateLabId('test')
  let down: Promise<void> | undefined
  const takeDown = async (): Promise<void> => {
    down ??= (async () => {
      await downLab(layout.id)
      release(layout.id)
      const left = await labLeftovers(layout.id)
      if (left.length > 0) throw new Error(`lab ${layout.id} left behind: ${left.join(', ')}`)
    })()
    await down
  }
  hold(layout.id)
  t.teardown(takeDown)

  const state = await upLab(layout, opts)
  const read = async (file: string): Promise<string> => (await readFile(file, 'utf8').catch(() => '')).trim()
  const secret = async (role: KmsRole): Promise<{ root: string, hsm: string }> =>
    ({ root: await read(state.secrets[role].rootKeyFile), hsm: await read(state.secrets[role].hsmKeyFile) })
  const secrets = { cluster: await secret('cluster'), external: await secret('external') }
  const caPem = await readFile(state.ca.cert, 'utf8')
  const nodes: LabNode[] = state.nodes.map((n: LabNodeState) => {
    if (n.leaderPid === undefined) throw new Error(`${n.name} has no leader PID`)
    return { name: n.name, role: n.role, address: n.address, port: n.port, leaderPid: n.leaderPid, root: n.root }
  })
  const node = (ref: NodeRef): LabNode => {
    if (typeof ref !== 'string') return ref
    const n = nodes.find((x) => x.name === ref)
    if (n === undefined) throw new Error(`lab ${layout.id} has no node ${ref}`)
    return n
  }
  const need = (v: string, what: string): string => {
    if (v === '') throw new Error(`lab ${layout.id} has no ${what}`)
    return v
  }
  const stateOf = (n: LabNode): LabNodeState => {
    const s = state.nodes.find((x) => x.name === n.name)
    if (s === undefined) throw new Error(`lab ${layout.id} has no node ${n.name}`)
    return s
  }
  // A powered-off node has no systemd to enter (its files can still be read and written).
  const leader = (ref: NodeRef): number => {
    const n = node(ref)
    if (n.leaderPid === 0) throw new Error(`${n.name} is powered off`)
    return n.leaderPid
  }
  let ca: LabCa | undefined
  const lab: Lab = {
    id: layout.id,
    base: layout.base,
    state,
    nodes,
    node,
    ca: {
      pem: caPem,
      path: state.ca.cert,
      issue: async (req) => await (ca ??= await LabCa.load(layout.caDir)).issue(req)
    },
    rootKey: (role = 'cluster') => need(secrets[role].root, `${role} root API key`),
    hsmKey: (role = 'cluster') => need(secrets[role].hsm, `${role} HSM key`),
    exec: async (ref, argv, o) => await nodeExec(leader(ref), argv, o),
    systemctl: async (ref, ...args) => await nodeExec(leader(ref), ['systemctl', ...args], { okCodes: ANY_EXIT_CODE }),
    journal: async (ref, unit, o) => await unitJournal(leader(ref), unit, o),
    writeFile: async (ref, path, data, o) => { await writeNodeFile({ ...node(ref), binds: state.binds }, path, data, o) },
    readFile: async (ref, path) => await readNodeFile({ ...node(ref), binds: state.binds }, path),
    waitFor,
    powerOff: async (ref) => {
      const n = node(ref)
      await powerOffNode(layout.id, stateOf(n), { timeoutMs: 60_000 })
      n.leaderPid = 0
      await writeLabState(layout, state)
    },
    boot: async (ref) => {
      const n = node(ref)
      const s = stateOf(n)
      await bootNode(layout.id, s, labBinds(opts), caPem, { timeoutMs: 60_000, log: () => {}, runner: opts.runner ?? processRunner })
      if (s.leaderPid === undefined) throw new Error(`${n.name} booted without a leader PID`)
      n.leaderPid = s.leaderPid
      await writeLabState(layout, state)
    },
    down: takeDown
  }
  return lab
}
