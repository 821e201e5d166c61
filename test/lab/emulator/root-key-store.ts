// Keeps the root API key in the data directory (`root-key.json`, sealed under the REK) so that it
// survives the removal of MINIO_KMS_HSM_KEY: once stored, the stored key wins.
import { randomBytes } from 'node:crypto'
import { open, seal } from './aead.js'
import { readJsonFile, writeJsonAtomic } from './atomic-file.js'
import type { EmulatorLog } from './log.js'
import { deriveRootApiKey, k1FromSeed } from './root-key.js'

const AD = 'minkms-emulator root api key v1'

interface RootKeyFile { version: 1, sealed: string }

/**
 * The node's root API key: the stored one when present, else derived from the soft HSM key (or,
 * with no soft HSM, random) and stored. Throws when the stored file cannot be opened.
 */
export async function loadOrCreateRootKey (path: string, rek: Buffer, softHsmKey: Buffer | undefined, log: EmulatorLog): Promise<string> {
  const raw = await readJsonFile(path) as Partial<RootKeyFile> | undefined
  if (raw !== undefined) {
    if (raw.version !== 1 || typeof raw.sealed !== 'string') throw new Error(`${path}: unknown format`)
    let key: string
    try {
      key = open(rek, Buffer.from(raw.sealed, 'base64'), AD).toString('utf8')
    } catch {
      throw new Error(`${path}: the root API key does not authenticate under the root encryption key`)
    }
    if (softHsmKey !== undefined && deriveRootApiKey(softHsmKey) !== key) {
      log.warn('the root API key in the data directory differs from the one MINIO_KMS_HSM_KEY derives; using the stored one')
    }
    return key
  }
  let key: string
  if (softHsmKey !== undefined) {
    key = deriveRootApiKey(softHsmKey)
  } else {
    key = k1FromSeed(randomBytes(32))
    log.warn('no software HSM configured: generated a random root API key for this node')
  }
  const file: RootKeyFile = { version: 1, sealed: seal(rek, Buffer.from(key), AD).toString('base64') }
  await writeJsonAtomic(path, file)
  return key
}
