// The journalctl command lines, in one place so tests and the lab can check them. Two flags are
// there because of measured pitfalls (journalctl 252):
//  - `--no-tail` with `--follow`: follow mode otherwise shows only the last 10 entries, even
//    after `--after-cursor`, so a restart's first lines (the new run's "Started …" message,
//    an early FATAL) would be silently skipped.
//  - `--all`: without it `-o json` replaces any value over 4096 bytes with null.

/** The fields keyroll reads; __CURSOR and __REALTIME_TIMESTAMP always come along. */
export const OUTPUT_FIELDS = ['MESSAGE', 'MESSAGE_ID', '_SYSTEMD_UNIT', '_SYSTEMD_INVOCATION_ID', 'UNIT', 'INVOCATION_ID', '_PID', 'PRIORITY']

/** `journalctl --show-cursor -n 0 -q`: prints `-- cursor: …` for the journal's last entry. */
export function tailCursorArgs (): string[] {
  return ['--show-cursor', '-n', '0', '-q', '--no-pager']
}

function unitArgs (unit: string, afterCursor: string | undefined): string[] {
  const args = ['-u', unit, '-o', 'json', '--all', '-q', '--no-pager', `--output-fields=${OUTPUT_FIELDS.join(',')}`]
  // '' is the cursor of an empty journal: read from the beginning.
  if (afterCursor !== undefined && afterCursor !== '') args.push(`--after-cursor=${afterCursor}`)
  return args
}

/** A one-shot read; `-n N` after a cursor gives the first N after it, without one the last N. */
export function readArgs (unit: string, afterCursor?: string, limit?: number): string[] {
  const args = unitArgs(unit, afterCursor)
  if (limit !== undefined) args.push('-n', String(limit))
  return args
}

/** A follow from the cursor (exclusive), or from the unit's first entry when there is none. */
export function followArgs (unit: string, afterCursor?: string): string[] {
  return [...unitArgs(unit, afterCursor), '--follow', '--no-tail']
}

/** The cursor in `--show-cursor` output, or undefined. */
export function parseShownCursor (stdout: string): string | undefined {
  const m = /^-- cursor: (\S+)\s*$/m.exec(stdout)
  return m?.[1]
}
