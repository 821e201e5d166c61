// The OS part of a node's root directory: about 100 KB of /etc plus empty mount points. The
// host's /usr is bound read-only at boot (nspawn --bind-ro=/usr), so no debootstrap is needed and
// building a root takes milliseconds (nothing is copied). The container uses the host's
// unit files from /usr/lib; the enabled set comes from its own, almost empty, /etc.
import { copyFile, mkdir, readFile, readlink, symlink, writeFile, lstat } from 'node:fs/promises'
import { join } from 'node:path'

/** The minkms service account, created as minkms's install guide does. */
export const MINKMS_USER = 'minkms-user'

/** Numeric ids of a user and its group of the same name. */
export interface Account { uid: number, gid: number }

// etc/alternatives is a mount point: the host's is bound read-only at boot (see HOST_BINDS).
const DIRS = [
  'etc/systemd/system/multi-user.target.wants', 'etc/alternatives', 'var/log/journal', 'var/lib', 'var/tmp', 'usr', 'root',
  'tmp', 'proc', 'sys', 'dev', 'run', 'home', 'opt', 'mnt', 'srv'
]
/**
 * Host directories every node binds read-only: /usr, and /etc/alternatives, whose symlinks make
 * commands such as awk or pager resolve. Binding it beats copying: creating its ~400 symlinks
 * takes ~0.3 s per node on this VM's disk.
 */
export const HOST_BINDS = ['/usr', '/etc/alternatives'] as const

/** Top-level directories that are symlinks into /usr on a merged-/usr host. */
const MERGED_USR = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']

function usedIds (table: string, field: number): Set<number> {
  return new Set(table.split('\n').map((l) => Number(l.split(':')[field])).filter(Number.isInteger))
}

/**
 * Picks the account's id the way `useradd -r` does: the highest id below 1000 that is free as a
 * uid in `passwd` and as a gid in `group` (the same number for both).
 */
export function pickSystemAccount (passwd: string, group: string): Account {
  const uids = usedIds(passwd, 2)
  const gids = usedIds(group, 2)
  for (let id = 999; id >= 100; id--) {
    if (!uids.has(id) && !gids.has(id)) return { uid: id, gid: id }
  }
  throw new Error('no free system uid/gid below 1000 for ' + MINKMS_USER)
}

/**
 * The host's passwd and group with the minkms account added
 * (`groupadd -r minkms-user; useradd -M -r -g minkms-user minkms-user`).
 */
export async function accountTables (): Promise<{ passwd: string, group: string, account: Account }> {
  const [passwd, group] = await Promise.all([readFile('/etc/passwd', 'utf8'), readFile('/etc/group', 'utf8')])
  const account = pickSystemAccount(passwd, group)
  const nl = (s: string): string => s.endsWith('\n') ? s : s + '\n'
  return {
    passwd: nl(passwd) + `${MINKMS_USER}:x:${account.uid}:${account.gid}::/home/${MINKMS_USER}:/bin/sh\n`,
    group: nl(group) + `${MINKMS_USER}:x:${account.gid}:\n`,
    account
  }
}

async function isSymlinkTo (path: string): Promise<string | undefined> {
  try {
    return (await lstat(path)).isSymbolicLink() ? await readlink(path) : undefined
  } catch {
    return undefined
  }
}

/** Builds the OS skeleton in `root` (which must not exist yet or be empty). */
export async function buildThinRoot (root: string, tables: { passwd: string, group: string }): Promise<void> {
  await Promise.all(DIRS.map((d) => mkdir(join(root, d), { recursive: true })))
  // Mirror the host's merged-/usr links, so /bin/sh etc. resolve through the bound /usr.
  for (const d of MERGED_USR) {
    const target = await isSymlinkTo(join('/', d))
    if (target !== undefined) await symlink(target.replace(/^\//, ''), join(root, d))
  }
  await writeFile(join(root, 'etc/passwd'), tables.passwd, { mode: 0o644 })
  await writeFile(join(root, 'etc/group'), tables.group, { mode: 0o644 })
  await copyFile('/etc/nsswitch.conf', join(root, 'etc/nsswitch.conf'))
  // A real file, not the host's symlink into /usr: nspawn looks for it before /usr is mounted.
  await copyFile('/usr/lib/os-release', join(root, 'etc/os-release'))
  // Empty: systemd generates a fresh machine id per boot, so every node has its own.
  await writeFile(join(root, 'etc/machine-id'), '', { mode: 0o444 })
}
