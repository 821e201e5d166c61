// Powering a node off and booting it again during a test, as a host that loses power and comes
// back: the same root directory (so the same units, agents, certificates, minkms data and
// journal), the same netns and cgroup, a new systemd. Poweroff is SIGTERM to the node's nspawn,
// which shuts the container's systemd down cleanly (units stopped in order), as `down` does.
import type { ProcessRunner } from '../../shared/process-runner.js'
import { cgroupMounts } from './cgroups.js'
import { CGROUP_PARENT } from './lab-paths.js'
import type { LabNodeState } from './lab-state.js'
import { startNode, waitForBoot, waitForMinkms } from './node-boot.js'
import { terminateNspawn, type BindMount } from './nspawn.js'
import { isRunning } from './procfs.js'
import { waitFor } from './wait.js'

/** Powers `node` of lab `labId` off and waits until its nspawn has exited; clears `node.leaderPid`. */
export async function powerOffNode (labId: number, node: LabNodeState, opts: { timeoutMs: number }): Promise<void> {
  const ref = node.nspawn
  if (ref === undefined || !terminateNspawn(ref, `/${CGROUP_PARENT}/${labId}/`)) throw new Error(`${node.name} is not running: nothing to power off`)
  await waitFor(() => !isRunning(ref), { timeoutMs: opts.timeoutMs, what: `${node.name} to power off` })
  delete node.leaderPid
}

/**
 * Boots a powered-off `node` again with the binds the lab was built with, and waits until its
 * systemd has booted and (on a minkms node) minkms answers /v1/health/live.
 */
export async function bootNode (labId: number, node: LabNodeState, binds: readonly BindMount[], ca: string, opts: { timeoutMs: number, log: (line: string) => void, runner: ProcessRunner }): Promise<void> {
  if (node.nspawn !== undefined && isRunning(node.nspawn)) throw new Error(`${node.name} is running: power it off first`)
  await startNode(labId, node, binds, cgroupMounts(), opts.runner)
  await waitForBoot(node, opts)
  if (node.role !== 'coordinator') await waitForMinkms(node, ca, opts)
}
