// Reads the TLS files the config names: server certificate/key pairs and the CA trust (a file or
// a directory of PEM files) used for outgoing calls (external HSM, other nodes).
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createSecureContext } from 'node:tls'
import type { TlsConfig } from './config.js'
import { FatalError, describeError } from './fatal-error.js'

/** PEM material ready for node:tls. */
export interface TlsMaterial {
  keys: string[]
  certs: string[]
  /** CA certificates (PEM); undefined → the system trust store. */
  ca?: string[]
}

async function readPem (path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new FatalError(`kms: failed to read ${what} '${path}': ${describeError(err)}`, { cause: err })
  }
}

/** All PEM certificates in a file or in the regular files of a directory (sorted by name). */
export async function readCaPems (path: string): Promise<string[]> {
  let files: string[]
  try {
    const st = await stat(path)
    files = st.isDirectory()
      ? (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(path, e.name)).sort()
      : [path]
  } catch (err) {
    throw new FatalError(`kms: failed to read CA certificates '${path}': ${describeError(err)}`, { cause: err })
  }
  const out: string[] = []
  for (const f of files) {
    const text = await readPem(f, 'CA certificate')
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
    out.push(...blocks.map((b) => b + '\n'))
  }
  if (out.length === 0) throw new FatalError(`kms: no CA certificates found in '${path}'`)
  return out
}

/** Loads and checks the configured certificates; throws FatalError naming the bad file. */
export async function loadTlsMaterial (tls: TlsConfig): Promise<TlsMaterial> {
  const keys: string[] = []
  const certs: string[] = []
  for (const pair of tls.certs) {
    const key = await readPem(pair.key, 'private key')
    const cert = await readPem(pair.cert, 'certificate')
    try {
      createSecureContext({ key, cert })
    } catch (err) {
      throw new FatalError(`kms: invalid server certificate '${pair.cert}' / key '${pair.key}': ${describeError(err)}`, { cause: err })
    }
    keys.push(key)
    certs.push(cert)
  }
  const material: TlsMaterial = { keys, certs }
  if (tls.ca !== undefined) material.ca = await readCaPems(tls.ca)
  return material
}
