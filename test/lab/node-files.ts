// The minkms installation on a node, written into the node's root on the host before it boots:
// the unit, the binary (a wrapper around keyroll's emulator), the config file, the environment
// file, TLS files, the data directory and the emulator's fault-switch directory. Paths and
// contents follow the real Linux install (minkms's install guide: service account, files, unit).
import { randomBytes } from 'node:crypto'
import { chmod, chown, mkdir, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { CertKeyPair } from './lab-ca.js'
import type { NodePlan } from './lab-paths.js'
import type { Account } from './thin-root.js'

/** Where things are inside a node (container paths). */
export const NODE_PATHS = {
  unitDir: '/etc/systemd/system',
  minkmsUnit: '/etc/systemd/system/minkms.service',
  minkmsBinary: '/opt/minkms/bin/minkms',
  config: '/etc/minkms/config.yaml',
  envFile: '/etc/default/minkms',
  certsDir: '/etc/minkms/certs',
  serverKey: '/etc/minkms/certs/private.key',
  serverCert: '/etc/minkms/certs/public.crt',
  caDir: '/etc/minkms/certs/CAs',
  caFile: '/etc/minkms/certs/CAs/ca.pem',
  dataDir: '/mnt/minio-kms',
  faultsDir: '/var/lib/minkms-emu/faults',
  /** The repository, bound read-only. */
  repo: '/opt/keyroll',
  /** The emulator as compiled by `npm run build`. */
  emulatorMain: '/opt/keyroll/dist/test/lab/emulator/main.js'
} as const

/** A systemd unit to install in a node, for example the keyroll agent. */
export interface ExtraUnit {
  /** File name, e.g. `keyroll-agent.service`. */
  name: string
  content: string
  /** Enable it in multi-user.target (default true). */
  enable?: boolean
}

/** The unit, deliberately kept to the real one; every difference is explained in its comments. */
export const MINKMS_UNIT = `# minkms.service of keyroll's test lab: the unit of the AIStor Key Manager Linux install guide
# (as minkms's install guide ships it), changed only where a node booted by systemd-nspawn with the
# host's /usr bound read-only needs it:
#  - It lives in /etc/systemd/system, not /usr/lib/systemd/system, because /usr is the host's and
#    read-only. systemd reads both; the unit behaves the same.
#  - The binary is /opt/minkms/bin/minkms, not /usr/local/bin/minkms, for the same reason. It is a
#    wrapper that runs keyroll's minkms emulator (the real minkms is commercial).
# Kept as in the guide, with notes:
#  - LimitNOFILE=65536: the CI VM's hard limit is 20000 and CAP_SYS_RESOURCE is not in the bounding
#    set; systemd then applies the closest limit it can (20000) and starts the service anyway.
#  - No StartLimit* settings: the default start limit (5 starts within 10 s) stays on purpose. With
#    Restart=always, a config that makes minkms exit at once ends the unit "failed"
#    (start-limit-hit) after about a second, as on a real node, instead of restarting forever.
#    Tests that restart minkms more than 5 times in 10 s must run "systemctl reset-failed minkms".
[Unit]
Description=MinKMS
Documentation=https://docs.min.io/enterprise/aistor-key-manager
Wants=network-online.target
After=network-online.target
AssertFileIsExecutable=${NODE_PATHS.minkmsBinary}

[Service]
WorkingDirectory=/usr/local
User=minkms-user
Group=minkms-user
ProtectProc=invisible
EnvironmentFile=-${NODE_PATHS.envFile}
ExecStart=${NODE_PATHS.minkmsBinary} server $MINIO_KMS_VOLUME $MINIO_KMS_OPTS
Restart=always
LimitNOFILE=65536
TasksMax=infinity
TimeoutStopSec=infinity
SendSIGKILL=no

[Install]
WantedBy=multi-user.target
`

/**
 * The `minkms` wrapper; `main` is the emulator's entry point inside the node. The emulator's root
 * identity mode (test/lab/emulator/root-identity.ts) is set here, not in the env file: it is not a
 * minkms setting, and keyroll's edits of the env file must neither see nor keep it.
 */
export function minkmsWrapper (main: string, rootIdentity: LabRootIdentity = 'stored'): string {
  const mode = rootIdentity === 'stored'
    ? ''
    : `# The emulator derives each node's root API key from the HSM that unsealed it at every start
# (lab option --root-identity derived): removing the soft HSM changes the node's identity.
export MINKMS_EMU_ROOT_IDENTITY=${rootIdentity}
`
  return `#!/bin/sh
# keyroll test lab: stands in for the minkms binary. Runs keyroll's minkms emulator, compiled by
# "npm run build" into the repository, which is bound read-only at ${NODE_PATHS.repo}.
${mode}exec /usr/bin/node ${main} "$@"
`
}

/** The emulator's root identity modes the lab offers (the emulator README: "Root API key"). */
export const LAB_ROOT_IDENTITIES = ['stored', 'derived'] as const
export type LabRootIdentity = typeof LAB_ROOT_IDENTITIES[number]

/** The config file, with a comment on every section: keyroll's edits must keep them. */
export function minkmsConfig (node: NodePlan): string {
  return `# AIStor Key Manager (minkms) configuration of ${node.name} (${node.role === 'cluster' ? 'cluster' : 'external'} Key Manager).
# Written by keyroll's test lab. keyroll edits this file in place: comments, key order and the
# values it does not change must survive every edit.

# Config file version. Required.
version: v1

# TLS is mandatory. minkms serves the certificate below and reloads the files when they change.
tls:
  # Server key pairs. The certificate is issued by the lab CA for this node's address and name.
  certs:
    - key: ${NODE_PATHS.serverKey}
      cert: ${NODE_PATHS.serverCert}
  # CA certificates this node trusts (the lab CA).
  ca: ${NODE_PATHS.caDir}

# Root identity. Optional: without an admin section minkms derives the root API key from the HSM
# and prints it to the system log at startup.
#admin:
#  identity: h1:...

# HSMs. None configured here: the software HSM key in ${NODE_PATHS.envFile}
# (MINIO_KMS_HSM_KEY) seals the root encryption key. An external Key Manager HSM goes here as
# hsm.minio.minkms.
`
}

/** The EnvironmentFile of a cluster node (§1.4), with the node's `--host`. */
export function minkmsEnv (node: NodePlan, hsmKey: string): string {
  return `# minkms environment (EnvironmentFile of minkms.service), written by keyroll's test lab.
MINIO_KMS_HSM_KEY=${hsmKey}
MINIO_KMS_VOLUME=${NODE_PATHS.dataDir}
MINIO_KMS_OPTS="--host ${node.address}:${node.port} --config ${NODE_PATHS.config}"
`
}

/** A new software HSM key, in the format of `minkms --soft-hsm` (§1.5). */
export function newHsmKey (): string {
  return `hsm:aes256:${randomBytes(32).toString('base64')}`
}

/** Everything {@link installMinkms} writes for one node. */
export interface MinkmsInstall {
  node: NodePlan
  account: Account
  hsmKey: string
  serverCert: CertKeyPair
  caPem: string
  /** Entry point the wrapper runs, inside the node (default: the compiled emulator). */
  main?: string
  /** The emulator's root identity mode (default `stored`). */
  rootIdentity?: LabRootIdentity
}

/** Writes `content` to `root` + `path` with exactly `mode` and owner. */
export async function putFile (root: string, path: string, content: string, mode: number, owner: { uid: number, gid: number } = { uid: 0, gid: 0 }): Promise<void> {
  const host = join(root, path)
  await mkdir(dirname(host), { recursive: true })
  await writeFile(host, content)
  await chown(host, owner.uid, owner.gid)
  await chmod(host, mode) // after writing: the mode option of writeFile is filtered by the umask
}

async function putDir (root: string, path: string, mode: number, owner = { uid: 0, gid: 0 }): Promise<void> {
  const host = join(root, path)
  await mkdir(host, { recursive: true })
  await chown(host, owner.uid, owner.gid)
  await chmod(host, mode)
}

/** Installs a unit in `root` and, unless `enable` is false, enables it in multi-user.target. */
export async function installUnit (root: string, unit: ExtraUnit): Promise<void> {
  const path = `${NODE_PATHS.unitDir}/${unit.name}`
  await putFile(root, path, unit.content, 0o644)
  if (unit.enable !== false) await symlink(path, join(root, NODE_PATHS.unitDir, 'multi-user.target.wants', unit.name))
}

/** Installs minkms in a node root built by thin-root.ts. */
export async function installMinkms (root: string, spec: MinkmsInstall): Promise<void> {
  const minkms = { uid: 0, gid: spec.account.gid }
  await installUnit(root, { name: 'minkms.service', content: MINKMS_UNIT })
  await putFile(root, NODE_PATHS.minkmsBinary, minkmsWrapper(spec.main ?? NODE_PATHS.emulatorMain, spec.rootIdentity), 0o755)
  await putDir(root, '/etc/minkms', 0o755)
  await putFile(root, NODE_PATHS.config, minkmsConfig(spec.node), 0o640, minkms)
  await putFile(root, NODE_PATHS.envFile, minkmsEnv(spec.node, spec.hsmKey), 0o600)
  await putFile(root, NODE_PATHS.serverKey, spec.serverCert.key, 0o640, minkms)
  await putFile(root, NODE_PATHS.serverCert, spec.serverCert.cert, 0o644)
  await putFile(root, NODE_PATHS.caFile, spec.caPem, 0o644)
  await putDir(root, NODE_PATHS.dataDir, 0o750, spec.account)
  await putDir(root, NODE_PATHS.faultsDir, 0o755)
}

/** The hsm.minio.minkms section an operator appends by hand (docs/design.md, HSM workflow step 3). */
export function hsmSection (servers: readonly string[], enclave: string, key: string, apiKey: string): string {
  return [
    '',
    '# External Key Manager that seals the root encryption key.',
    'hsm:',
    '  minio:',
    '    minkms:',
    '      server:',
    ...servers.map((s) => `        - ${s}`),
    `      enclave: ${enclave}`,
    `      key: ${key}`,
    '      auth:',
    `        key: ${apiKey}`,
    ''
  ].join('\n')
}
