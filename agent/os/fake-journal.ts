// In-memory Journal for tests (STYLE R2). Entries are pushed by the test and reach every live
// follower; cursors are opaque strings like journald's, and an unknown cursor is refused the way
// `journalctl --after-cursor` refuses one ("Failed to seek to cursor").
import { OsPortError } from '../errors.js'
import type { Journal, JournalEntry } from './journal.js'
import { fullUnitName } from './journal-entry-parser.js'

/** What a test pushes: a message plus any fields it cares about. */
export type EntryInput = Partial<Omit<JournalEntry, 'cursor'>> & { message: string }

/** Options of {@link FakeJournal}. */
export interface FakeJournalOptions {
  /** Unit of pushed entries that name none (default `minkms.service`). */
  unit?: string
  /** Wall clock (ms) for entries pushed without `realtimeUs` (default Date.now). */
  now?: () => number
}

interface Follower { wake: () => void }

/** A journal held in an array. Followers see entries pushed after they started. */
export class FakeJournal implements Journal {
  /** Every entry, oldest first. */
  readonly entries: JournalEntry[] = []
  /** Calls, in order. */
  readonly calls: Array<{ method: 'tailCursor' | 'read' | 'follow', opts?: unknown }> = []
  readonly #unit: string
  readonly #now: () => number
  readonly #followers = new Set<Follower>()
  #seq = 0
  /** Bumped by breakFollowers: a follower that started in an older generation throws. */
  #generation = 0
  #breakWith: Error | undefined

  constructor (opts: FakeJournalOptions = {}) {
    this.#unit = fullUnitName(opts.unit ?? 'minkms.service')
    this.#now = opts.now ?? Date.now
  }

  /** How many follow iterations are running now (0 after every consumer stopped: leak check). */
  get activeFollowers (): number {
    return this.#followers.size
  }

  /** Appends entries and wakes the followers. Returns the stored entries. */
  push (...inputs: EntryInput[]): JournalEntry[] {
    const added = inputs.map((i) => {
      const e: JournalEntry = { realtimeUs: this.#now() * 1000, unit: this.#unit, ...i, cursor: `fake-cursor-${++this.#seq}` }
      this.entries.push(e)
      return e
    })
    this.#wakeAll()
    return added
  }

  /** Makes every running follow throw `err` (journalctl died); later follows work again. */
  breakFollowers (err: Error = new OsPortError('AGT_JOURNAL_FOLLOW_FAILED', 'journalctl --follow ended by itself (exit 1)')): void {
    this.#breakWith = err
    this.#generation++
    this.#wakeAll()
  }

  async tailCursor (): Promise<string> {
    this.calls.push({ method: 'tailCursor' })
    return this.entries.at(-1)?.cursor ?? ''
  }

  async read (opts: { unit: string, afterCursor?: string, limit?: number }): Promise<JournalEntry[]> {
    this.calls.push({ method: 'read', opts })
    const from = this.#start(opts.afterCursor, 'AGT_JOURNAL_READ_FAILED')
    const mine = this.entries.slice(from).filter((e) => this.#matches(e, opts.unit))
    if (opts.limit === undefined) return mine
    return opts.afterCursor === undefined || opts.afterCursor === '' ? mine.slice(-opts.limit) : mine.slice(0, opts.limit)
  }

  follow (opts: { unit: string, afterCursor?: string, signal: AbortSignal }): AsyncIterable<JournalEntry> {
    this.calls.push({ method: 'follow', opts: { unit: opts.unit, afterCursor: opts.afterCursor } })
    return this.#follow(opts.unit, opts.afterCursor, opts.signal)
  }

  async * #follow (unit: string, afterCursor: string | undefined, signal: AbortSignal): AsyncGenerator<JournalEntry> {
    if (signal.aborted) return
    let next = this.#start(afterCursor, 'AGT_JOURNAL_FOLLOW_FAILED')
    const me: Follower = { wake: () => {} }
    this.#followers.add(me)
    const generation = this.#generation
    try {
      while (!signal.aborted) {
        while (next < this.entries.length) {
          const e = this.entries[next++]
          if (e !== undefined && this.#matches(e, unit)) yield e
          if (signal.aborted) return
        }
        if (this.#generation !== generation && this.#breakWith !== undefined) throw this.#breakWith
        await new Promise<void>((resolve) => {
          const done = (): void => { signal.removeEventListener('abort', done); resolve() }
          me.wake = done
          signal.addEventListener('abort', done, { once: true })
        })
      }
    } finally {
      this.#followers.delete(me)
    }
  }

  #matches (e: JournalEntry, unit: string): boolean {
    return e.unit === undefined || e.unit === fullUnitName(unit)
  }

  #start (afterCursor: string | undefined, code: 'AGT_JOURNAL_READ_FAILED' | 'AGT_JOURNAL_FOLLOW_FAILED'): number {
    if (afterCursor === undefined || afterCursor === '') return 0
    const i = this.entries.findIndex((e) => e.cursor === afterCursor)
    if (i === -1) throw new OsPortError(code, 'Failed to seek to cursor: Invalid argument', { stderr: 'Failed to seek to cursor: Invalid argument' })
    return i + 1
  }

  #wakeAll (): void {
    for (const f of this.#followers) f.wake()
  }
}
