// What the host must offer before a lab can boot, and the one host-wide mount the labs share.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { processRunner, type ProcessRunner } from '../../shared/process-runner.js'
import { cgroupMounts } from './cgroups.js'
import { labDirIds } from './lab-ids.js'
import { LAB_ROOT } from './lab-paths.js'
import { LAB_PATH } from './nspawn.js'
import { isRunning, processRef, type ProcessRef } from './procfs.js'
import { waitFor } from './wait.js'

/** The lab cannot run on this host; the message says why and what to do. */
export class LabUnavailableError extends Error {
  readonly code = 'LAB_UNAVAILABLE'
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LabUnavailableError'
  }
}

const TOOLS = ['systemd-nspawn', 'nsenter', 'ip', 'mount', 'umount']
/** The node's interpreter: host /usr is bound read-only into every node, so it must live there. */
export const NODE_BIN = '/usr/bin/node'

function missingTools (): string[] {
  return TOOLS.filter((t) => !LAB_PATH.split(':').some((d) => existsSync(join(d, t))))
}

/**
 * Checks root, tools, cgroup2 and node. Missing tools are installed with the project's script
 * (test/tools/install-lab-deps.sh: apt-get install systemd-container, after apt-get update if
 * that fails) before giving up.
 */
export async function ensureHost (repo: string, runner: ProcessRunner = processRunner): Promise<void> {
  if (process.getuid?.() !== 0) throw new LabUnavailableError('the lab needs root (it creates namespaces, cgroups and mounts)')
  if (missingTools().length > 0) {
    const script = join(repo, 'test/tools/install-lab-deps.sh')
    // Under the host lock: labs starting in parallel must not run apt-get at the same time.
    await withHostLock(async () => {
      if (missingTools().length === 0) return
      await runner.run('bash', [script], { timeoutMs: 600_000, env: { PATH: LAB_PATH, DEBIAN_FRONTEND: 'noninteractive' } })
    }).catch((err: unknown) => { throw new LabUnavailableError(`installing the lab's tools failed (${script})`, { cause: err }) })
    const still = missingTools()
    if (still.length > 0) throw new LabUnavailableError(`missing after install: ${still.join(', ')}`)
  }
  if (!existsSync(NODE_BIN)) throw new LabUnavailableError(`${NODE_BIN} is missing: nodes run minkms with the host's node from /usr`)
  try {
    cgroupMounts()
  } catch (err) {
    throw new LabUnavailableError((err as Error).message)
  }
}

// nspawn keeps per-machine state in /run/systemd/nspawn. /run is not a tmpfs on this VM and nspawn
// then refuses to clean up its propagation directory (seen with nspawn 252), so the
// labs mount a tmpfs there, shared by all labs, tagged with this source name so that only our own
// mount is ever unmounted.
const NSPAWN_RUN = '/run/systemd/nspawn'
const MOUNT_SOURCE = 'keyroll-lab'
/** Serialises host-wide changes of all labs: the nspawn mount and tool installs. */
const LOCK = join(LAB_ROOT, '.host.lock')

/** The source of the mount at `path`, or undefined when nothing is mounted there. */
export function mountSource (path: string): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ')
    const sep = f.indexOf('-')
    if (f[4] === path && sep > 0) return f[sep + 2]
  }
  return undefined
}

/** Mount points at or below `dir` (used to refuse deleting a tree that has mounts in it). */
export function mountsBelow (dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(dir + '/')))
}

/** Runs `fn` holding the host lock (a directory with the holder's PID). */
async function withHostLock<T> (fn: () => Promise<T>): Promise<T> {
  // A long deadline: the holder may be installing packages. A holder that died is seen at once.
  await waitFor(async () => {
    try {
      await mkdir(LAB_ROOT, { recursive: true }) // again on each try: the last `down` removes it
      await mkdir(LOCK)
    } catch {
      if (lockIsAbandoned()) await rm(LOCK, { recursive: true, force: true })
      return false
    }
    await writeFile(join(LOCK, 'holder.json'), JSON.stringify(processRef()))
    return true
  }, { timeoutMs: 600_000, intervalMs: 100, what: `the lock ${LOCK}` })
  try {
    return await fn()
  } finally {
    await rm(LOCK, { recursive: true, force: true })
  }
}

/** The holder died, or died between creating the lock and naming itself in it. */
function lockIsAbandoned (): boolean {
  try {
    const holder = JSON.parse(readFileSync(join(LOCK, 'holder.json'), 'utf8')) as ProcessRef
    return !isRunning(holder)
  } catch {
    try {
      return Date.now() - statSync(LOCK).mtimeMs > 10_000
    } catch {
      return false // already released
    }
  }
}

/** Mounts the tmpfs on /run/systemd/nspawn unless something is mounted there already. */
export async function acquireNspawnRunDir (runner: ProcessRunner = processRunner): Promise<void> {
  await withHostLock(async () => {
    if (mountSource(NSPAWN_RUN) !== undefined) return
    await mkdir(NSPAWN_RUN, { recursive: true })
    await runner.run('mount', ['-t', 'tmpfs', '-o', 'mode=0755,size=16m', MOUNT_SOURCE, NSPAWN_RUN], { timeoutMs: 10_000, env: { PATH: LAB_PATH } })
  })
}

/** nspawn's per-machine directories of machines whose names start with `prefix`. */
export async function nspawnMachineState (prefix: string): Promise<string[]> {
  const dir = join(NSPAWN_RUN, 'propagate')
  return (await readdir(dir).catch(() => [])).filter((n) => n.startsWith(prefix)).map((n) => join(dir, n))
}

/**
 * Removes those directories once the machines are gone: nspawn removes them itself only when it
 * exits normally, not when it is killed.
 */
export async function removeNspawnMachineState (prefix: string): Promise<void> {
  for (const path of await nspawnMachineState(prefix)) {
    if (mountsBelow(path).length === 0) await rm(path, { recursive: true, force: true })
  }
}

/**
 * Unmounts our tmpfs when no lab directory is left (this lab's must already be gone) and nspawn
 * holds no machine state in it.
 */
export async function releaseNspawnRunDir (runner: ProcessRunner = processRunner): Promise<boolean> {
  return await withHostLock(async () => {
    if (mountSource(NSPAWN_RUN) !== MOUNT_SOURCE) return false
    if ((await labDirIds()).length > 0) return false
    const propagate = await readdir(join(NSPAWN_RUN, 'propagate')).catch(() => [])
    if (propagate.length > 0) return false
    await runner.run('umount', [NSPAWN_RUN], { timeoutMs: 10_000, env: { PATH: LAB_PATH } })
    return true
  })
}
