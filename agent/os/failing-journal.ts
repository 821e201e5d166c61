// A Journal whose every call fails the way the real one does when journalctl cannot run or
// journald is gone: for error paths of the verifier and the journal API.
import { OsPortError } from '../errors.js'
import type { Journal, JournalEntry } from './journal.js'

/** Every call rejects (or, for follow, the first `next()` throws) with a typed AGT_ error. */
export class FailingJournal implements Journal {
  constructor (readonly reason = 'No journal files were found.') {}

  async tailCursor (): Promise<string> {
    throw new OsPortError('AGT_JOURNAL_READ_FAILED', `journalctl --show-cursor failed: ${this.reason}`, { stderr: this.reason })
  }

  async read (): Promise<JournalEntry[]> {
    throw new OsPortError('AGT_JOURNAL_READ_FAILED', `journalctl failed: ${this.reason}`, { stderr: this.reason })
  }

  follow (): AsyncIterable<JournalEntry> {
    const reason = this.reason
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => { throw new OsPortError('AGT_JOURNAL_FOLLOW_FAILED', `journalctl --follow failed: ${reason}`, { stderr: reason }) }
      })
    }
  }
}
