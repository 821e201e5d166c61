// The agent's durable state (stateDir, default /var/lib/keyroll-agent):
//   applied.json   the revision the files are on (last committed apply) and their hashes; its
//                  rename is the commit point: nothing else says a revision was committed
//   desired.json   the revision boot convergence re-applies when the files drift; it follows
//                  applied.json (written after it), and one that names another revision is a
//                  leftover of a killed commit: ignored, and reset by recovery
//   changes/<rev>.sealed  the changes of the committed revisions (applied.json's and its
//                  `previous`; sealed: they may hold secrets); one of another revision is a
//                  leftover of a killed commit, removed by recovery
//   pending.json   write-ahead record of an apply in progress (crash recovery reads it)
//   last.json      the last apply result (no secrets), shown by /v1/status after a restart
//   backups/<key>/<name>.sealed  the files as they were before a transaction (key: the revision
//                  applied, which a rollback of it restores; `reapply-<rev>` while the committed
//                  revision is applied again, e.g. after drift, so that its own set stays; or
//                  `rollback-<rev>` for a rollback from <rev>)
// Every record is written with atomicWrite, so a crash leaves the old or the new record, never a
// torn one (and perhaps a temporary file, which removeLeftovers clears).
import type { LastResult } from '../../shared/schemas/apply.js'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite } from '../../shared/fs/atomic-write.js'
import { removeAtomicTemps } from '../../shared/fs/temp-sweep.js'
import type { FileMeta } from '../os/file-store.js'
import type { SealedBox } from './sealed-box.js'

/** sha256 hex of a file's content. */
export function sha256 (data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** The hash recorded for a managed file: sha256 of its content, '' for a file that does not exist. */
export function contentSha (content: string | undefined): string {
  return content === undefined ? '' : sha256(content)
}

/** A revision the node was on. */
export interface RevisionRef { revision: number, changeHash: string }

/** What a committed apply left on disk. */
export interface AppliedRecord {
  revision: number
  /** Hash of the canonical change (same revision, other content → conflict). */
  changeHash: string
  /** Earlier revisions, oldest first (POST /v1/rollback returns to the last one). */
  previous: RevisionRef[]
  /** File name → sha256 of its content after the commit ('' when absent). */
  files: Record<string, string>
  at: number
  /** The transaction that wrote this record (matches PendingRecord.txId until it is cleared). */
  txId?: string
}

/** One file of an apply in progress. */
export interface PendingFile {
  name: string
  path: string
  /** sha256 before the apply ('' if the file did not exist). */
  oldSha: string
  /** sha256 the apply writes. */
  newSha: string
}

/** Write-ahead record of an apply in progress. */
export interface PendingRecord {
  /** Random id; the commit writes it into applied.json, so recovery can tell a committed transaction. */
  txId: string
  /** 'apply' of a change, or 'rollback' to the previous revision. */
  kind: 'apply' | 'rollback'
  revision: number
  changeHash: string
  /** Revision the files were on before. */
  fromRevision: number
  /** Where the files' old contents are kept: backups/<backupKey>/. */
  backupKey: string
  /**
   * writing: files may be partly written, the unit was not restarted yet;
   * restarting: the unit may run the new files; restoring: a rollback of this apply is under way;
   * restored: the files are back (boot-time recovery), but the unit may still run the interrupted
   * content: the daemon restarts and verifies it.
   */
  phase: 'writing' | 'restarting' | 'restoring' | 'restored'
  files: PendingFile[]
  startedAt: number
}

/** The last result, as /v1/status shows it (secret-free by construction of ApplyResult). */
/** The last apply/rollback result (last.json), as /v1/status shows it. */
export type LastRecord = LastResult

export interface DesiredRecord { revision: number, changeHash: string, acceptedAt: number }

/** Durable agent state in one directory. Not safe for concurrent writers: the apply lock serialises them. */
export class AgentStateStore {
  readonly dir: string
  readonly #box: SealedBox

  constructor (dir: string, box: SealedBox) {
    this.dir = dir
    this.#box = box
  }

  async init (): Promise<void> {
    await mkdir(join(this.dir, 'backups'), { recursive: true, mode: 0o700 })
  }

  async #readJson<T> (name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, name), 'utf8')) as T
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  async #writeJson (name: string, value: unknown): Promise<void> {
    await atomicWrite(join(this.dir, name), JSON.stringify(value, null, 2) + '\n', { mode: 0o600 })
  }

  readApplied = async (): Promise<AppliedRecord | undefined> => await this.#readJson<AppliedRecord>('applied.json')
  writeApplied = async (r: AppliedRecord): Promise<void> => { await this.#writeJson('applied.json', r) }
  readPending = async (): Promise<PendingRecord | undefined> => await this.#readJson<PendingRecord>('pending.json')
  writePending = async (r: PendingRecord): Promise<void> => { await this.#writeJson('pending.json', r) }
  clearPending = async (): Promise<void> => { await rm(join(this.dir, 'pending.json'), { force: true }) }
  readLast = async (): Promise<LastRecord | undefined> => await this.#readJson<LastRecord>('last.json')
  writeLast = async (r: LastRecord): Promise<void> => { await this.#writeJson('last.json', r) }

  /**
   * Stores `spec` (the change's JSON form, with secret values: sealed on disk) as the change of
   * `revision`. Written before the commit (applied.json), so a committed revision always has its
   * change; until the commit it is a leftover that recovery removes.
   */
  async writeChange (revision: number, spec: unknown): Promise<void> {
    await mkdir(join(this.dir, 'changes'), { recursive: true, mode: 0o700 })
    await atomicWrite(join(this.dir, 'changes', `${revision}.sealed`), this.#box.seal(JSON.stringify(spec)), { mode: 0o600 })
  }

  /**
   * Makes desired.json follow `applied` (after its commit, or at recovery): its revision when its
   * change is stored, none otherwise. Returns the revision a desired record named that
   * `applied` did not commit (a leftover, now replaced), or undefined.
   */
  async followApplied (applied: AppliedRecord | undefined, at: number): Promise<number | undefined> {
    const old = await this.#readJson<DesiredRecord>('desired.json')
    const stale = old !== undefined && !follows(old, applied) ? old.revision : undefined
    if (applied === undefined || !await this.#hasChange(applied.revision)) {
      await rm(join(this.dir, 'desired.json'), { force: true })
      return stale
    }
    if (old === undefined || stale !== undefined || old.changeHash !== applied.changeHash) {
      await this.#writeJson('desired.json', { revision: applied.revision, changeHash: applied.changeHash, acceptedAt: at })
    }
    return stale
  }

  async #hasChange (revision: number): Promise<boolean> {
    return await stat(join(this.dir, 'changes', `${revision}.sealed`)).then(() => true, () => false)
  }

  /** The stored change of `revision` (wire form, secrets revealed), or undefined when none is kept. */
  async readChange (revision: number): Promise<unknown> {
    let raw: Buffer
    try {
      raw = await readFile(join(this.dir, 'changes', `${revision}.sealed`))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    return JSON.parse(this.#box.unseal(raw, `change ${revision}`).toString('utf8'))
  }

  /**
   * The desired revision and its change: only the one applied.json committed. A desired record
   * naming another revision was left by a killed commit (the kill came before applied.json): it
   * is ignored, so nothing converges to a revision that was never committed.
   */
  async readDesired (): Promise<{ record: DesiredRecord, spec: unknown } | undefined> {
    const record = await this.#readJson<DesiredRecord>('desired.json')
    if (record === undefined || !follows(record, await this.readApplied())) return undefined
    const spec = await this.readChange(record.revision)
    return spec === undefined ? undefined : { record, spec }
  }

  /**
   * Forgets every revision: applied.json, desired.json and the stored changes go, so the next
   * apply of any revision is accepted. The managed files and backups are not touched. Only for
   * `keyroll-agent reset-revisions`, the way out of a revision history that blocks every change.
   */
  async forgetRevisions (): Promise<void> {
    await rm(join(this.dir, 'applied.json'), { force: true })
    await rm(join(this.dir, 'desired.json'), { force: true })
    await rm(join(this.dir, 'changes'), { recursive: true, force: true })
  }

  /** Drops stored changes of revisions not in `keep`; returns their paths. */
  async pruneChanges (keep: readonly number[]): Promise<string[]> {
    const names = await readdir(join(this.dir, 'changes')).catch(() => [] as string[])
    const removed: string[] = []
    for (const n of names) {
      if (!n.endsWith('.sealed') || keep.includes(Number(n.slice(0, -'.sealed'.length)))) continue
      await rm(join(this.dir, 'changes', n), { force: true })
      removed.push(join(this.dir, 'changes', n))
    }
    return removed
  }

  /** Removes the backup set `key`; returns its path when there was one. */
  async removeBackupSet (key: string): Promise<string | undefined> {
    const dir = join(this.dir, 'backups', key)
    if (!await stat(dir).then(() => true, () => false)) return undefined
    await rm(dir, { recursive: true, force: true })
    return dir
  }

  #backupPath (key: string, name: string): string {
    return join(this.dir, 'backups', key, `${name}.sealed`)
  }

  /** Saves a file's pre-transaction content (undefined: it did not exist) under `key`. */
  async writeBackup (key: string, name: string, content: string | undefined, meta: FileMeta | undefined): Promise<void> {
    await mkdir(join(this.dir, 'backups', key), { recursive: true, mode: 0o700 })
    const body = JSON.stringify({ exists: content !== undefined, content: content ?? '', meta: meta ?? null })
    await atomicWrite(this.#backupPath(key, name), this.#box.seal(body), { mode: 0o600 })
  }

  async readBackup (key: string, name: string): Promise<{ content: string | undefined, meta: FileMeta | undefined }> {
    const raw = await readFile(this.#backupPath(key, name))
    const b = JSON.parse(this.#box.unseal(raw, `backup ${key}/${name}`).toString('utf8')) as { exists: boolean, content: string, meta: FileMeta | null }
    return { content: b.exists ? b.content : undefined, meta: b.meta ?? undefined }
  }

  /** Names of the files backed up under `key` ([] when none). */
  async backupNames (key: string): Promise<string[]> {
    const names = await readdir(join(this.dir, 'backups', key)).catch(() => [] as string[])
    return names.filter((n) => n.endsWith('.sealed')).map((n) => n.slice(0, -'.sealed'.length)).sort()
  }

  /**
   * Removes the temporary files of writes a killed agent left in the state directory (records,
   * changes/, backups/<key>/) and returns their paths. Only under the apply lock.
   */
  async removeLeftovers (): Promise<string[]> {
    return await removeAtomicTemps(this.dir, { depth: 2 })
  }

  /** Keeps the `keep` newest backup sets (by modification time), plus those in `protect`. */
  async pruneBackups (keep: number, protect: readonly string[] = []): Promise<void> {
    const dir = join(this.dir, 'backups')
    const keys = await readdir(dir).catch(() => [] as string[])
    const dated = await Promise.all(keys.map(async (k) => ({ k, t: (await stat(join(dir, k))).mtimeMs })))
    dated.sort((a, b) => b.t - a.t)
    for (const { k } of dated.slice(keep)) {
      if (!protect.includes(k)) await rm(join(dir, k), { recursive: true, force: true })
    }
  }
}

/** Whether a desired record names what `applied` committed (a record without a hash: its revision). */
function follows (d: DesiredRecord, applied: AppliedRecord | undefined): boolean {
  return applied !== undefined && d.revision === applied.revision && (d.changeHash === '' || d.changeHash === applied.changeHash)
}
