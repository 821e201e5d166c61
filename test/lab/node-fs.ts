// Reading and writing a node's files from the host. Most of a node lives in its root directory
// on the host, so a test writes there directly (and atomically: a node never sees half a file).
// Paths the host cannot see there (mounts inside the container, symlinks leading out of the
// root) are read and written from inside the node with nsenter instead.
import { chmod, chown, lstat, mkdir, readFile, realpath, rename, writeFile } from 'node:fs/promises'
import { dirname, join, normalize } from 'node:path'
import { nodeExec } from './node-shell.js'

/** A booted node, as far as file access needs it. */
export interface NodeFsTarget {
  root: string
  leaderPid: number
  /** Node paths that are bind mounts from the host (LabState.binds). */
  binds: readonly string[]
}

/** Mode and owner of a written file. */
export interface FileOptions { mode?: number, uid?: number, gid?: number }

/** What nspawn mounts in every container besides the binds. */
const CONTAINER_MOUNTS = ['/proc', '/sys', '/dev', '/run', '/tmp']

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root + '/')

/**
 * The host path of node path `path` in the node's root, or undefined when the host cannot see
 * that file there. Missing parent directories are fine: the nearest existing one is checked.
 */
async function hostPath (node: NodeFsTarget, path: string): Promise<string | undefined> {
  if (!path.startsWith('/')) throw new Error(`node paths are absolute: ${path}`)
  const p = normalize(path)
  if ([...CONTAINER_MOUNTS, ...node.binds].some((m) => inside(m, p))) return undefined
  const host = join(node.root, p)
  let dir = dirname(host)
  let real: string | undefined
  while (real === undefined && inside(node.root, dir)) {
    real = await realpath(dir).catch(() => undefined)
    dir = dirname(dir)
  }
  if (real === undefined || !inside(node.root, real)) return undefined
  const isLink = await lstat(host).then((s) => s.isSymbolicLink(), () => false)
  return isLink ? undefined : host
}

/** Writes `data` to `path` in the node; an existing file keeps its mode and owner unless given. */
export async function writeNodeFile (node: NodeFsTarget, path: string, data: string, opts: FileOptions = {}): Promise<void> {
  const host = await hostPath(node, path)
  if (host !== undefined) {
    const old = await lstat(host).catch(() => undefined)
    await mkdir(dirname(host), { recursive: true })
    const tmp = `${host}.keyroll-lab.tmp`
    await writeFile(tmp, data)
    await chown(tmp, opts.uid ?? old?.uid ?? 0, opts.gid ?? old?.gid ?? 0)
    await chmod(tmp, opts.mode ?? (old !== undefined ? old.mode & 0o7777 : 0o644))
    await rename(tmp, host)
    return
  }
  await nodeExec(node.leaderPid, ['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', path], { input: data })
  if (opts.mode !== undefined) await nodeExec(node.leaderPid, ['chmod', opts.mode.toString(8), path])
  if (opts.uid !== undefined || opts.gid !== undefined) {
    await nodeExec(node.leaderPid, ['chown', opts.gid === undefined ? String(opts.uid) : `${opts.uid ?? ''}:${opts.gid}`, path])
  }
}

/** Reads `path` in the node. */
export async function readNodeFile (node: NodeFsTarget, path: string): Promise<string> {
  const host = await hostPath(node, path)
  return host !== undefined ? await readFile(host, 'utf8') : (await nodeExec(node.leaderPid, ['cat', path])).stdout
}
