// Booting a node: systemd-nspawn -b on the node's own root directory, in the node's netns and
// cgroup, detached from us so a CLI `up` can exit while the nodes run. Its systemd (the
// "leader") is PID 1 inside and the target of every nsenter.
import { closeSync, openSync } from 'node:fs'
import { processRunner, type ProcessRunner } from '../../shared/process-runner.js'
import { childPids, isRunning, processCgroups, processName, processRef, type ProcessRef } from './procfs.js'
import { HOST_BINDS } from './thin-root.js'
import { waitFor } from './wait.js'

/** PATH for everything the lab runs; the environment is otherwise empty (no host variables leak in). */
export const LAB_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** A bind mount from the host into a node. */
export interface BindMount {
  host: string
  /** Path inside the node (default: same as `host`). */
  node?: string
  readOnly?: boolean
}

/** One nspawn container. */
export interface NspawnSpec {
  root: string
  /** Machine name: unique on the host (nspawn keeps per-machine state under /run/systemd/nspawn). */
  machine: string
  hostname: string
  netnsPath: string
  binds: readonly BindMount[]
}

/**
 * The container's systemd runs on the unified cgroup hierarchy (cgroup2), as on a real minkms host
 * (Debian 12, RHEL 9). Left to itself, nspawn on this hybrid host looks for systemd's version in
 * the node's root directory before the host's /usr is bound into it, finds none, and boots the
 * node on the legacy hierarchy (cgroup v1 only). There systemd gets no notice that a unit's cgroup
 * became empty (a container has no release agent), so a unit whose main process was killed while
 * it had children could sit in `stop-sigterm` until TimeoutStopSec (seen with keyroll-agent, whose
 * systemctl/journalctl children die with it; systemd/README.md, "After a crash").
 */
export const NSPAWN_ENV = { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' } as const

// Joins the cgroups given before `--`, then becomes systemd-nspawn. A fixed script with
// positional arguments: nothing is interpolated into shell text.
const LAUNCHER = 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs" || exit 97; shift; done; shift; exec "$@"'

/** The systemd-nspawn arguments for `spec` (each flag is explained where it is added). */
export function nspawnArgs (spec: NspawnSpec): string[] {
  const binds = spec.binds.map((b) => {
    for (const p of [b.host, b.node ?? '']) if (p.includes(':')) throw new Error(`bind path must not contain ':': ${p}`)
    return `--bind${b.readOnly === true ? '-ro' : ''}=${b.host}${b.node !== undefined ? ':' + b.node : ''}`
  })
  return [
    '--boot', `--directory=${spec.root}`,
    // No host bus and no machined: without these two nspawn tries to register with them and fails.
    '--register=no', '--keep-unit',
    // Nothing reads the console; nspawn's own messages go to its log.
    '--console=passive',
    // The journal stays in the node root's /var/log/journal, readable with journalctl inside.
    '--link-journal=no',
    `--machine=${spec.machine}`, `--hostname=${spec.hostname}`,
    `--network-namespace-path=${spec.netnsPath}`,
    ...HOST_BINDS.map((d) => `--bind-ro=${d}`),
    ...binds
  ]
}

/**
 * Starts nspawn detached (its own session: it outlives a CLI `up`), after moving the launcher
 * into `cgroupDirs`, with stdout and stderr appended to `logFile`. Returns the nspawn process at
 * once: our handle for stopping it.
 */
export function launchNspawn (spec: NspawnSpec, cgroupDirs: readonly string[], logFile: string, runner: ProcessRunner = processRunner): ProcessRef {
  const fd = openSync(logFile, 'a', 0o640)
  try {
    const child = runner.spawn('/bin/sh', ['-c', LAUNCHER, 'keyroll-lab-launch', ...cgroupDirs, '--', 'systemd-nspawn', ...nspawnArgs(spec)], {
      detached: true, stdin: 'ignore', stdout: fd, stderr: fd, env: { PATH: LAB_PATH, ...NSPAWN_ENV }
    })
    child.unref()
    const ref = processRef(child.pid)
    if (ref === undefined) throw new Error(`systemd-nspawn for ${spec.machine} exited at once; see ${logFile}`)
    return ref
  } finally {
    closeSync(fd)
  }
}

/** The container's PID 1 (systemd), once nspawn has started it. */
export function leaderPid (nspawn: ProcessRef): number | undefined {
  if (!isRunning(nspawn)) return undefined
  return childPids(nspawn.pid).find((p) => processName(p) === 'systemd')
}

/** Waits for the container's systemd to exist; fails early when nspawn exits. */
export async function waitForLeader (nspawn: ProcessRef, opts: { timeoutMs: number, what: string }): Promise<number> {
  return await waitFor(() => {
    if (!isRunning(nspawn)) throw new Error(`systemd-nspawn (pid ${nspawn.pid}) exited`)
    return leaderPid(nspawn)
  }, { timeoutMs: opts.timeoutMs, what: opts.what, intervalMs: 20 })
}

/**
 * Sends SIGTERM to nspawn (a clean poweroff of the container), but only if `ref` still is that
 * process and it sits in `cgroupMark` (e.g. `/keyroll-lab/3/`): PIDs are never signalled on trust.
 * Returns false when there was nothing to signal.
 */
export function terminateNspawn (ref: ProcessRef, cgroupMark: string): boolean {
  if (!isRunning(ref)) return false
  if (!processCgroups(ref.pid).some((c) => c.includes(cgroupMark))) return false
  try {
    process.kill(ref.pid, 'SIGTERM')
    return true
  } catch {
    return false
  }
}
