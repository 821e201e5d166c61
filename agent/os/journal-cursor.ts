// Which cursors journald can seek to, checked before `journalctl --after-cursor` runs. The query
// schema only bounds a cursor's form (`k=hex;…`); journald's parser is stricter, and a cursor it
// cannot read makes journalctl exit 1 ("Failed to seek to cursor"), which the API would answer as
// a 502 with an error logged: a client's typo looking like the agent's failure. This is
// sd_journal_seek_cursor's rule, so such a cursor is a 400 instead: the `s` (sequence-number id)
// and `b` (boot id) fields are 128-bit ids, 32 hex digits; the others are hex numbers; unknown
// letters are ignored; and the cursor must place an entry by sequence number (`s` and `i`), by
// boot and monotonic time (`b` and `m`), or by wall-clock time (`t`).

/** Why journald would refuse `cursor` (already of the schema's form), or undefined when it reads it. */
export function journalCursorProblem (cursor: string): string | undefined {
  const fields = new Map<string, string>()
  for (const item of cursor.split(';')) fields.set(item.slice(0, 1), item.slice(2))
  for (const id of ['s', 'b']) {
    const v = fields.get(id)
    if (v !== undefined && !/^[0-9a-f]{32}$/.test(v)) return `field ${id}= must be 32 hex digits; pass a cursor exactly as a journal entry carries it`
  }
  const placed = (fields.has('s') && fields.has('i')) || (fields.has('b') && fields.has('m')) || fields.has('t')
  return placed ? undefined : 'names no entry journald can find (it needs s= and i=, b= and m=, or t=); pass a cursor exactly as a journal entry carries it'
}
