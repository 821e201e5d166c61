// The text of anything thrown. `throw` in JavaScript can throw any value; messages built from a
// caught value use its message when it is an Error and its string form otherwise.

/** `err.message` for an Error, `String(err)` for anything else. */
export function errText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
