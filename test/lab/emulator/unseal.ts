// Start-up unsealing: a fresh data directory gets a new REK sealed by
// every configured HSM; otherwise the REK is unsealed by the first configured HSM that has an
// entry and can open it, and configured HSMs without an entry get one. Every failure that leaves
// the node unable to serve is a FatalError.
import { randomBytes } from 'node:crypto'
import type { Hsm } from './hsm.js'
import { FatalError, describeError } from './fatal-error.js'
import type { EmulatorLog } from './log.js'
import type { RekStore } from './rek-store.js'

export interface UnsealResult {
  rek: Buffer
  /** The HSM that opened the REK; undefined for a fresh data directory. */
  unsealedBy?: string
  /** HSMs that got a new entry during this start. */
  sealed: string[]
}

async function sealWith (store: RekStore, hsm: Hsm, rek: Buffer, log: EmulatorLog): Promise<void> {
  let entry
  try {
    entry = await hsm.seal(rek)
  } catch (err) {
    throw new FatalError(`kms: failed to seal the root encryption key with HSM '${hsm.name}': ${describeError(err)}`, { cause: err })
  }
  await store.put(entry)
  log.info(`Sealed root encryption key with HSM ${hsm.name}`)
}

/**
 * Unseals (or creates) the REK. `hasState` says whether the data directory already holds a key
 * database: state without any sealed entry is refused rather than silently replaced.
 */
export async function unsealRek (store: RekStore, hsms: readonly Hsm[], hasState: boolean, log: EmulatorLog): Promise<UnsealResult> {
  if (hsms.length === 0) throw new FatalError('kms: no HSM provided')
  let entries
  try {
    entries = await store.load()
  } catch (err) {
    throw new FatalError(`kms: failed to read the sealed root encryption key: ${describeError(err)}`, { cause: err })
  }
  if (entries.size === 0) {
    if (hasState) throw new FatalError('kms: the data directory holds a key database but no sealed root encryption key')
    const rek = randomBytes(32)
    for (const hsm of hsms) await sealWith(store, hsm, rek, log)
    log.info('Initialized a new root encryption key')
    return { rek, sealed: hsms.map((h) => h.name) }
  }
  const candidates = hsms.filter((h) => entries.has(h.name))
  if (candidates.length === 0) {
    throw new FatalError(`kms: no configured HSM can unseal the root encryption key: sealed by [${[...entries.keys()].sort().join(', ')}], ` +
      `configured [${hsms.map((h) => h.name).join(', ')}]`)
  }
  const failures: string[] = []
  let rek: Buffer | undefined
  let unsealedBy: string | undefined
  for (const hsm of candidates) {
    const entry = entries.get(hsm.name)
    if (entry === undefined) continue
    try {
      rek = await hsm.unseal(entry)
      unsealedBy = hsm.name
      break
    } catch (err) {
      failures.push(`${hsm.name}: ${describeError(err)}`)
      log.warn(`HSM ${hsm.name} failed to unseal the root encryption key: ${describeError(err)}`)
    }
  }
  if (rek === undefined || unsealedBy === undefined) {
    throw new FatalError(`kms: failed to unseal the root encryption key: ${failures.join('; ')}`)
  }
  log.info(`Unsealed root encryption key with HSM ${unsealedBy}`)
  const sealed: string[] = []
  for (const hsm of hsms) {
    if (entries.has(hsm.name)) continue
    await sealWith(store, hsm, rek, log)
    sealed.push(hsm.name)
  }
  return { rek, unsealedBy, sealed }
}
