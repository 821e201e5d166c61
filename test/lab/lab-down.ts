// Tearing a lab down, from its id alone: it must work after a crashed run (no lab.json, nspawn
// SIGKILLed and its container re-parented to the host's PID 1), so everything is found by name or
// by cgroup, and every process is ended by PID taken from the lab's own cgroup, never by name.
import { rm, rmdir } from 'node:fs/promises'
import { processRunner, type ProcessRunner } from '../../shared/process-runner.js'
import { cgroupMounts, cgroupPids, killLabCgroups, labCgroupDirs, removeLabCgroups, type CgroupMounts } from './cgroups.js'
import { mountsBelow, releaseNspawnRunDir, removeNspawnMachineState } from './host.js'
import { staleDirs } from './lab-ids.js'
import { CGROUP_PARENT, LAB_ROOT, labLayout } from './lab-paths.js'
import { deleteLabNetwork } from './netns.js'
import { terminateNspawn } from './nspawn.js'
import { isRunning, processName, processRef, type ProcessRef } from './procfs.js'
import { waitFor } from './wait.js'

/** What `down` did. */
export interface DownReport {
  id: number
  /** nspawn processes that got SIGTERM (a clean poweroff of their container). */
  terminated: number
  /** Processes still there after the grace period, ended with cgroup.kill. */
  killed: number
  ms: number
}

/** Options of {@link downLab}. */
export interface DownOptions {
  /** How long containers get to power off after SIGTERM before cgroup.kill (default 10 s). */
  graceMs?: number
  runner?: ProcessRunner
}

/** The nspawn processes in the lab's cgroups. */
function nspawnProcesses (id: number, mounts: CgroupMounts): ProcessRef[] {
  const pids = new Set(labCgroupDirs(id, mounts).flatMap(cgroupPids))
  return [...pids].filter((p) => processName(p) === 'systemd-nspawn')
    .map((p) => processRef(p)).filter((r): r is ProcessRef => r !== undefined)
}

/** Removes lab `id` entirely: processes, cgroups, network, files and, if unused, the nspawn tmpfs. */
export async function downLab (id: number, opts: DownOptions = {}): Promise<DownReport> {
  const t0 = Date.now()
  const layout = labLayout(id)
  const runner = opts.runner ?? processRunner
  const mounts = cgroupMounts()
  const mark = `/${CGROUP_PARENT}/${id}/`

  const nspawns = nspawnProcesses(id, mounts).filter((r) => terminateNspawn(r, mark))
  if (nspawns.length > 0) {
    await waitFor(() => nspawns.every((r) => !isRunning(r)), { timeoutMs: opts.graceMs ?? 10_000, what: `lab ${id}'s nodes to power off` })
      .catch(() => { /* what is left is killed below */ })
  }
  const killed = await killLabCgroups(id, { timeoutMs: 10_000 }, mounts)
  removeLabCgroups(id, mounts)
  await removeNspawnMachineState(layout.netnsPrefix)
  await deleteLabNetwork(layout, runner)

  for (const dir of [layout.base, ...await staleDirs(id)]) {
    const mounted = mountsBelow(dir)
    if (mounted.length > 0) throw new Error(`refusing to delete ${dir}: mounts below it: ${mounted.join(', ')}`)
    await rm(dir, { recursive: true, force: true })
  }
  await releaseNspawnRunDir(runner)
  await rmdir(LAB_ROOT).catch(() => { /* other labs, or their claims and locks, are in it */ })
  return { id, terminated: nspawns.length, killed, ms: Date.now() - t0 }
}
