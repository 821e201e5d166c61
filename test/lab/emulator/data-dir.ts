// Layout of the data directory (`minkms server DIR`). Every file is JSON, written atomically.
import { access, constants, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { FatalError, describeError } from './fatal-error.js'

/** Paths of the state files in a data directory. */
export interface DataFiles {
  /** Sealed REK entries, one per HSM name. */
  rek: string
  /** The root API key, sealed under the REK. */
  rootKey: string
  /** Enclaves, identities and keys (key material sealed under the REK). */
  db: string
  /** Cluster id, this node's id and the member list. */
  cluster: string
}

export function dataFiles (dir: string): DataFiles {
  return {
    rek: join(dir, 'rek.json'),
    rootKey: join(dir, 'root-key.json'),
    db: join(dir, 'db.json'),
    cluster: join(dir, 'cluster.json')
  }
}

/** Creates the directory when missing (mode 0700) and checks that it is writable. */
export async function prepareDataDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK)
  } catch (err) {
    throw new FatalError(`kms: cannot use data directory '${dir}': ${describeError(err)}`, { cause: err })
  }
}

/** True when the directory holds state sealed under a REK (key database or root key). */
export async function hasSealedState (files: DataFiles): Promise<boolean> {
  for (const path of [files.db, files.rootKey]) {
    try {
      await stat(path)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  return false
}
