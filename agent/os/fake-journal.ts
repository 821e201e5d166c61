// In-memory Journal for tests, shipped beside the journalctl adapter and behaving like it, so
// unit tests of the verifier, the core and the HTTP API all drive the same double. Entries are
// pushed by the test and reach every live follower; cursors are opaque strings like journald's,
// an unknown cursor is refused the way `journalctl --after-cursor` refuses one ("Failed to seek
// to cursor"), and a limit without a cursor keeps the newest entries, as `journalctl -n` does.
import { OsPortError } from '../errors.js'
import type { Journal, JournalEntry } from './journal.js'
import { fullUnitName } from './journal-entry-parser.js'

/** The sequence-number id of the fake's cursors: 128 bits, as journald's (journal-cursor.ts checks it). */
const SEQNUM_ID = '0'.repeat(32)

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
  /** Follows started and ended (ended = the iteration's cleanup ran: its journalctl would be gone). */
  readonly followers = { opened: 0, closed: 0 }
  /** When set, read() and follow() fail with it (journalctl cannot run or read the journal). */
  failWith: Error | undefined
  /** Calls, in order. */
  readonly calls: Array<{ method: 'tailCursor' | 'read' | 'follow', opts?: unknown }> = []
  readonly #unit: string
  readonly #now: () => number
  readonly #followers = new Set<Follower>()
  #onClosed: Array<() => void> = []
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

  /** Resolves once every follow started so far has ended (a client left, the server closed). */
  async followersClosed (): Promise<void> {
    if (this.followers.closed >= this.followers.opened) return
    await new Promise<void>((resolve) => { this.#onClosed.push(resolve) })
  }

  /** Appends entries and wakes the followers. Returns the stored entries. */
  push (...inputs: EntryInput[]): JournalEntry[] {
    const added = inputs.map((i) => {
      const e: JournalEntry = { realtimeUs: this.#now() * 1000, unit: this.#unit, ...i, cursor: `s=${SEQNUM_ID};i=${(++this.#seq).toString(16)}` }
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
    if (this.failWith !== undefined) throw this.failWith
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
    if (this.failWith !== undefined) throw this.failWith
    let next = this.#start(afterCursor, 'AGT_JOURNAL_FOLLOW_FAILED')
    const me: Follower = { wake: () => {} }
    this.#followers.add(me)
    this.followers.opened++
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
      this.followers.closed++
      if (this.followers.closed >= this.followers.opened) {
        const waiting = this.#onClosed
        this.#onClosed = []
        for (const resolve of waiting) resolve()
      }
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
