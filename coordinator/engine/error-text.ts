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

/**
 * An agent's answer as one line, `result: message; verdict: summary`. The agent's message often
 * quotes its verdict already ("did not come back: <summary>; …"): then the verdict is not said again.
 */
export function agentAnswerText (a: { result: string, message: string, verdict?: { summary: string } }): string {
  const verdict = a.verdict === undefined || a.message.includes(a.verdict.summary) ? '' : `; verdict: ${a.verdict.summary}`
  return `${a.result}: ${a.message}${verdict}`
}
