// The lab's cgroups: `<hierarchy>/keyroll-lab/<labId>/<node>` in every hierarchy that systemd
// uses. Each node's launcher moves itself there before it execs systemd-nspawn; otherwise the
// container's systemd would take the host's root cgroup as its own (seen on
// this host: the container then manages the host's processes). The cgroup is also the handle for teardown after a crash: `cgroup.kill` ends
// everything in it, even a container whose nspawn was SIGKILLed and whose systemd was re-parented.
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CGROUP_PARENT } from './lab-paths.js'
import { waitFor } from './wait.js'

const CGROUP_FS = '/sys/fs/cgroup'

/** Where cgroups are made on this host. */
export interface CgroupMounts {
  /** Hierarchies in which every node gets a directory (hybrid: name=systemd and cgroup2). */
  hierarchies: string[]
  /** The cgroup2 mount: it has `cgroup.kill` and `cgroup.events`. */
  unified: string
}

/**
 * Finds the hierarchies. Hybrid mode (this CI's VM: v1 controllers, `name=systemd`, cgroup2 at
 * `unified`) and pure cgroup2 are supported; legacy-only hosts have no `cgroup.kill` and are not.
 */
export function cgroupMounts (): CgroupMounts {
  const hybrid = join(CGROUP_FS, 'unified')
  if (existsSync(join(hybrid, 'cgroup.controllers'))) {
    const named = join(CGROUP_FS, 'systemd')
    return { hierarchies: existsSync(join(named, 'cgroup.procs')) ? [named, hybrid] : [hybrid], unified: hybrid }
  }
  if (existsSync(join(CGROUP_FS, 'cgroup.controllers'))) return { hierarchies: [CGROUP_FS], unified: CGROUP_FS }
  throw new Error('no cgroup2 hierarchy found under /sys/fs/cgroup: the lab needs cgroup2 (hybrid or unified)')
}

/** The lab's cgroup directory in each hierarchy. */
export function labCgroupDirs (labId: number, mounts = cgroupMounts()): string[] {
  return mounts.hierarchies.map((h) => join(h, CGROUP_PARENT, String(labId)))
}

/** Creates the node's cgroup in every hierarchy and returns the directories. */
export async function createNodeCgroups (labId: number, node: string, mounts = cgroupMounts()): Promise<string[]> {
  const dirs = labCgroupDirs(labId, mounts).map((d) => join(d, node))
  for (const d of dirs) await mkdir(d, { recursive: true })
  return dirs
}

/** `dir` and all cgroups below it, deepest first. */
function cgroupTree (dir: string): string[] {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
  const below = entries.filter((e) => e.isDirectory()).flatMap((e) => cgroupTree(join(dir, e.name)))
  return [...below, dir]
}

/** PIDs in `dir` and every cgroup below it. */
export function cgroupPids (dir: string): number[] {
  return cgroupTree(dir).flatMap((d) => {
    try {
      return readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
    } catch {
      return []
    }
  })
}

/**
 * Kills every process in the lab's cgroups (cgroup2 `cgroup.kill`) and waits until they are gone.
 * Returns the number of processes that were still there.
 */
export async function killLabCgroups (labId: number, opts: { timeoutMs: number }, mounts = cgroupMounts()): Promise<number> {
  const v2 = join(mounts.unified, CGROUP_PARENT, String(labId))
  const dirs = labCgroupDirs(labId, mounts)
  const left = dirs.reduce((n, d) => n + cgroupPids(d).length, 0)
  if (left === 0) return 0
  const hasKill = existsSync(join(v2, 'cgroup.kill'))
  if (hasKill) await writeFile(join(v2, 'cgroup.kill'), '1')
  await waitFor(() => {
    const pids = dirs.flatMap(cgroupPids)
    // Kernels before 5.14 have no cgroup.kill: SIGKILL each member until none is left (forks included).
    if (!hasKill) for (const p of pids) try { process.kill(p, 'SIGKILL') } catch { /* already gone */ }
    return pids.length === 0
  }, { timeoutMs: opts.timeoutMs, what: `cgroups of lab ${labId} to empty` })
  return left
}

/** Synchronous `cgroup.kill` of a lab, for process-exit paths that cannot await. */
export function killLabCgroupsNow (labId: number, mounts = cgroupMounts()): void {
  const kill = join(mounts.unified, CGROUP_PARENT, String(labId), 'cgroup.kill')
  try {
    if (existsSync(kill)) writeFileSync(kill, '1')
  } catch { /* best effort on the way out */ }
}

/** Removes the lab's cgroup directories, deepest first, and the shared parent when it is empty. */
export function removeLabCgroups (labId: number, mounts = cgroupMounts()): void {
  for (const dir of labCgroupDirs(labId, mounts)) {
    for (const d of cgroupTree(dir)) rmdirSync(d)
  }
  for (const h of mounts.hierarchies) {
    try {
      rmdirSync(join(h, CGROUP_PARENT))
    } catch { /* other labs still have cgroups there */ }
  }
}

/** Lab ids that have a cgroup directory in any hierarchy. */
export function cgroupLabIds (mounts = cgroupMounts()): number[] {
  const ids = new Set<number>()
  for (const h of mounts.hierarchies) {
    try {
      for (const e of readdirSync(join(h, CGROUP_PARENT))) if (/^\d+$/.test(e)) ids.add(Number(e))
    } catch { /* none */ }
  }
  return [...ids]
}
