// Starting a node and waiting until it is up: its systemd has finished booting
// (`running`, or `degraded` with a failed unit, which is logged) and minkms answers
// /v1/health/live over TLS.
import type { ProcessRunner } from '../../shared/process-runner.js'
import { createNodeCgroups, type CgroupMounts } from './cgroups.js'
import { probe } from './health.js'
import type { LabNodeState } from './lab-state.js'
import { netnsPath } from './netns.js'
import { nodeExec, systemState } from './node-shell.js'
import { launchNspawn, waitForLeader, type BindMount } from './nspawn.js'
import { waitFor } from './wait.js'

/** Boots `node` (sets `node.nspawn`); returns at once. */
export async function startNode (labId: number, node: LabNodeState, binds: readonly BindMount[], mounts: CgroupMounts, runner: ProcessRunner): Promise<void> {
  const cgroups = await createNodeCgroups(labId, node.name, mounts)
  node.nspawn = launchNspawn({ root: node.root, machine: node.netns, hostname: node.name, netnsPath: netnsPath(node.netns), binds }, cgroups, node.log, runner)
}

/** Waits until the node's systemd has booted; sets `node.leaderPid`. */
export async function waitForBoot (node: LabNodeState, opts: { timeoutMs: number, log: (line: string) => void, runner: ProcessRunner }): Promise<void> {
  if (node.nspawn === undefined) throw new Error(`${node.name} was not started`)
  const leader = await waitForLeader(node.nspawn, { timeoutMs: opts.timeoutMs, what: `${node.name}'s systemd to start` })
  node.leaderPid = leader
  // is-system-running fails to reach the bus for the first few hundred ms, hence polling.
  const state = await waitFor(async () => {
    const s = await systemState(leader, opts.runner)
    return s === 'running' || s === 'degraded' ? s : undefined
  }, { timeoutMs: opts.timeoutMs, intervalMs: 100, what: `${node.name}'s systemd to finish booting` })
  if (state === 'degraded') {
    const failed = await nodeExec(leader, ['systemctl', '--failed', '--no-legend', '--plain'], { timeoutMs: 5000 }, opts.runner)
    opts.log(`${node.name} booted degraded; failed units: ${failed.stdout.trim().replace(/\s+/g, ' ')}`)
  }
}

/**
 * Waits until minkms on the node answers /v1/health/live, verified against `ca`. Gives up at once
 * when the unit has failed (with Restart=always that means the start limit was hit).
 */
export async function waitForMinkms (node: LabNodeState, ca: string, opts: { timeoutMs: number, runner: ProcessRunner }): Promise<void> {
  const leader = node.leaderPid
  if (leader === undefined) throw new Error(`${node.name} has not booted`)
  const failed = new AbortController()
  await waitFor(async () => {
    if (await probe(node.address, node.port, 'live', ca).catch(() => 0) === 200) return true
    const unit = await nodeExec(leader, ['systemctl', 'show', '-p', 'ActiveState', '-p', 'Result', 'minkms'], { timeoutMs: 5000 }, opts.runner)
    const props = Object.fromEntries(unit.stdout.trim().split('\n').map((l) => l.split('=', 2)))
    if (props.ActiveState === 'failed') failed.abort(new Error(`minkms on ${node.name} failed (result: ${props.Result ?? '?'})`))
    return false
  }, { timeoutMs: opts.timeoutMs, intervalMs: 100, what: `minkms on ${node.name} to answer /v1/health/live`, signal: failed.signal })
}
