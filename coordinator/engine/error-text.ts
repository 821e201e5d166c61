// One line for an error in an event or a step message: its code when it has one, and its message.
// Coded errors' messages never carry secrets (shared/errors.ts); anything else is masked anyway.
import { redactText } from '../../shared/secrets/redact-text.js'

/** `CODE: message`, or the message, or String(err); secret lookalikes masked. */
export function errorText (err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return redactText(typeof code === 'string' ? `${code}: ${err.message}` : err.message, [])
  }
  return redactText(String(err), [])
}
