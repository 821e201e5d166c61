// One apply at a time per node, across processes: `keyroll-agent serve` and a
// `keyroll-agent apply` run by hand share the state directory, so an in-process flag is not
// enough. The lock is a file created with O_EXCL holding the owner's PID; a lock whose owner is
// dead is stale (a killed agent) and is taken over — crash recovery runs before any new apply.
import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ChangeConflictError } from '../errors.js'

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The lock of one state directory. */
export class ApplyLock {
  readonly #path: string
  #held = false

  constructor (stateDir: string) {
    this.#path = join(stateDir, 'apply.lock')
  }

  get held (): boolean { return this.#held }

  /** Takes the lock or throws ChangeConflictError (AGT_CHANGE_CONFLICT, 409). */
  async acquire (): Promise<void> {
    if (this.#held) throw new ChangeConflictError(`this agent, process ${process.pid}`)
    this.#held = true
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const fh = await open(this.#path, 'wx', 0o600)
          try { await fh.writeFile(String(process.pid)) } finally { await fh.close() }
          return
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        }
        const holder = Number((await readFile(this.#path, 'utf8').catch(() => '')).trim())
        if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) throw new ChangeConflictError(`process ${holder}`)
        await rm(this.#path, { force: true }) // stale: its owner is gone
      }
      throw new ChangeConflictError('lock file held')
    } catch (err) {
      this.#held = false
      throw err
    }
  }

  /** The PID of the live process holding the lock (this one included), or undefined. */
  async holder (): Promise<number | undefined> {
    if (this.#held) return process.pid
    const pid = Number((await readFile(this.#path, 'utf8').catch(() => '')).trim())
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined
  }

  async release (): Promise<void> {
    if (!this.#held) return
    await rm(this.#path, { force: true })
    this.#held = false
  }
}
