// Writing PEM files so that a crash never leaves half a key: each file is written beside its
// target and renamed over it, with its mode set before the rename (keys 0600, certificates 0644,
// whatever the umask).
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { CertKeyPem } from './certificate-authority.js'
import type { CertKeyPaths } from './pki-layout.js'

const CERT_MODE = 0o644
const KEY_MODE = 0o600
const DIR_MODE = 0o700

async function writeAtomic (path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: DIR_MODE })
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`
  try {
    await writeFile(tmp, text, { mode, flag: 'wx' })
    await chmod(tmp, mode)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/** Writes a certificate (0644) and its key (0600); the key first, so a certificate never lacks its key. */
export async function writeCertKey (paths: CertKeyPaths, pem: CertKeyPem): Promise<void> {
  await writeAtomic(paths.key, pem.key, KEY_MODE)
  await writeAtomic(paths.crt, pem.cert, CERT_MODE)
}

/** Writes a file that holds no secret (0644), e.g. a config section. */
export async function writePublicText (path: string, text: string): Promise<void> {
  await writeAtomic(path, text, CERT_MODE)
}

/** Creates a directory (0700 when it is new). */
export async function makeDir (path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: DIR_MODE })
}
