// Opens the coordinator's SQLite file. Durability first: WAL with synchronous=FULL syncs the WAL
// at every commit, so a state change the engine wrote is on disk before the effect it announces
// runs (a restart is never sent for a step the store does not know about). The file is created
// 0600 in the state dir; SQLite gives its -wal and -shm files the same mode.
import Database from 'better-sqlite3'
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { CodedError } from '../../shared/errors.js'
import { CoordinatorError } from '../errors.js'
import { checkVersion, migrate, MIGRATIONS, type Migration } from './migrations.js'

/** The store's file name in the state dir. */
export const STORE_FILE = 'keyroll.db'

/** How long a statement waits for another connection's write lock before failing. */
const BUSY_TIMEOUT_MS = 5000

/** Options of {@link openStoreDb}. */
export interface OpenStoreDbOptions {
  /** Open for reading only (audit verify): nothing is created, migrated or written. */
  readonly readonly?: boolean
  /** The migrations to apply (tests); default every migration of this keyroll. */
  readonly migrations?: readonly Migration[]
}

/** Opens (creating and migrating unless read-only) the store at `path`. */
export function openStoreDb (path: string, opts: OpenStoreDbOptions = {}): Database.Database {
  const migrations = opts.migrations ?? MIGRATIONS
  let db: Database.Database | undefined
  try {
    if (opts.readonly === true) {
      db = new Database(path, { readonly: true, fileMustExist: true })
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
      if (checkVersion(db, migrations) === 0) throw new CoordinatorError('CRD_STORE_UNREADABLE', `${path} is empty: not a keyroll store`)
      return db
    }
    createPrivate(path)
    db = new Database(path, { fileMustExist: true })
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    if (mode !== 'wal') throw new CoordinatorError('CRD_STORE_UNREADABLE', `${path}: cannot switch to WAL mode (got ${String(mode)})`)
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    migrate(db, migrations)
    return db
  } catch (err) {
    db?.close()
    if (err instanceof CodedError) throw err
    const e = err as { code?: unknown, message?: unknown }
    throw new CoordinatorError('CRD_STORE_UNREADABLE', `cannot open the store ${path}: ${String(e.code ?? '')} ${String(e.message ?? err)}`.replace(/\s+/g, ' '), { cause: err })
  }
}

/** Creates `path` empty with mode 0600 (its dir 0700) unless it exists; tightens a looser existing file. */
function createPrivate (path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  try {
    closeSync(openSync(path, 'wx', 0o600))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
  }
}
