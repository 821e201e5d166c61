// Drift computed on demand, for a process that does not watch the files (the CLI's `status`):
// each managed file's content hash against the one the last committed apply recorded. The
// daemon's DriftDetector keeps the same list up to date from file events instead.
import { createHmac } from 'node:crypto'
import type { DriftEntry } from '../core.js'
import type { FileStore } from '../os/file-store.js'
import { sha256 } from '../state/agent-state.js'

/** Short keyed fingerprint of a content hash ('' for a missing file): shows that content differs without revealing it. */
export function driftFingerprint (key: Uint8Array, sha: string): string {
  return sha === '' ? '' : createHmac('sha256', key).update(sha).digest('base64url').slice(0, 8)
}

export interface DriftNowInput {
  /** Logical name → path of the managed files. */
  files: Readonly<Record<string, string>>
  /** Name → sha256 the last commit recorded; undefined when nothing was ever applied (nothing to drift from). */
  committed: Readonly<Record<string, string>> | undefined
  store: Pick<FileStore, 'read'>
  fingerprintKey: Uint8Array
  now: number
}

/** The managed files whose content is not what the last commit left. */
export async function driftNow (input: DriftNowInput): Promise<DriftEntry[]> {
  const { committed } = input
  if (committed === undefined) return []
  const entries = await Promise.all(Object.entries(input.files).map(async ([name, path]): Promise<DriftEntry | undefined> => {
    const want = committed[name]
    if (want === undefined) return undefined
    const { content } = await input.store.read(path)
    const sha = content === undefined ? '' : sha256(content)
    if (sha === want) return undefined
    return { name, path, fingerprint: driftFingerprint(input.fingerprintKey, sha), expected: driftFingerprint(input.fingerprintKey, want), since: input.now }
  }))
  return entries.filter((e): e is DriftEntry => e !== undefined)
}
