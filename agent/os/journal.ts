// Port: the systemd journal, read through `journalctl -o json` (no npm package reads it well).

/** One journal entry, with the fields keyroll uses. */
export interface JournalEntry {
  /** __CURSOR: resume point. */
  cursor: string
  /** __REALTIME_TIMESTAMP in microseconds since the epoch. */
  realtimeUs: number
  /** MESSAGE as text (byte-array messages decoded as UTF-8). */
  message: string
  /**
   * The unit run the entry belongs to, when known: _SYSTEMD_INVOCATION_ID for the unit's own
   * lines, INVOCATION_ID for systemd's messages about the unit.
   */
  invocationId?: string
  /** _PID */
  pid?: number
  /** PRIORITY (0 emerg .. 7 debug) */
  priority?: number
  /**
   * MESSAGE_ID (32 hex), set on systemd's catalogued messages: e.g. "Started …" and "Scheduled
   * restart job …", which tell a manual start from systemd's own auto-restart.
   */
  messageId?: string
  /** _SYSTEMD_UNIT, or UNIT for systemd's own messages about the unit. */
  unit?: string
  /**
   * Who wrote it: `unit` = the unit's own processes (stdout, syslog...), `manager` = systemd's
   * messages about the unit ("Started …", "Main process exited …", carrying UNIT=/INVOCATION_ID=),
   * `other` = another process writing about it (systemd-coredump, journald). Absent when unknown
   * (fakes may omit it; readers then treat the entry as the unit's own).
   */
  origin?: 'unit' | 'manager' | 'other'
}

/** Reads and follows the journal of one unit. */
export interface Journal {
  /**
   * A cursor for "now": entries logged after this call come after it. Works even when the unit
   * has never logged (it is the journal's tail, not the unit's last entry). '' when the whole
   * journal is empty: then "after ''" means from the beginning.
   */
  tailCursor (): Promise<string>
  /**
   * Entries of `unit` after `afterCursor` (all when absent), oldest first, at most `limit`: the
   * first `limit` after the cursor, or without a cursor the newest `limit` (journalctl -n).
   */
  read (opts: { unit: string, afterCursor?: string, limit?: number }): Promise<JournalEntry[]>
  /**
   * Follows `unit` from `afterCursor` (exclusive) as entries arrive, until `signal` aborts,
   * which also ends the underlying process. Includes systemd's own messages about the unit.
   */
  follow (opts: { unit: string, afterCursor?: string, signal: AbortSignal }): AsyncIterable<JournalEntry>
}
