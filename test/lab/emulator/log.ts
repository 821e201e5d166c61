// The emulator's log: plain text lines on stdout, the way minkms writes them and journald stores
// them (`2026-03-22 07:09:58 INFO  Starting server instance...`). Banner lines are written raw,
// without a timestamp. The sink is injectable so that in-process tests can read every line.

/** Log levels as minkms prints them, padded to five characters plus one space. */
export type LogLevel = 'INFO' | 'WARN' | 'ERROR' | 'FATAL'

/** Where lines go. `stream` says which standard stream a real process would use. */
export type LogSink = (line: string, stream: 'stdout' | 'stderr') => void

/** Writes to the process's stdout/stderr. */
export const processSink: LogSink = (line, stream) => {
  (stream === 'stdout' ? process.stdout : process.stderr).write(line + '\n')
}

function pad2 (n: number): string {
  return String(n).padStart(2, '0')
}

/** `YYYY-MM-DD HH:MM:SS` in local time (journald shows the same clock). */
export function timestamp (d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
}

/** One formatted log line. */
export function formatLogLine (level: LogLevel, message: string, now: Date = new Date()): string {
  // Messages must stay on one line: journald turns each line into an entry, and the lab's
  // verdict treats a FATAL entry as the reason for a failed start.
  const oneLine = message.replace(/\s*\n\s*/g, ' ')
  return `${timestamp(now)} ${level.padEnd(5)} ${oneLine}`
}

/** The emulator's logger. Never pass secrets (HSM keys, API keys other than the root key) to it. */
export class EmulatorLog {
  readonly #sink: LogSink
  readonly #now: () => Date

  constructor (sink: LogSink = processSink, now: () => Date = () => new Date()) {
    this.#sink = sink
    this.#now = now
  }

  info (message: string): void { this.#sink(formatLogLine('INFO', message, this.#now()), 'stdout') }
  warn (message: string): void { this.#sink(formatLogLine('WARN', message, this.#now()), 'stdout') }
  error (message: string): void { this.#sink(formatLogLine('ERROR', message, this.#now()), 'stdout') }
  /** The single line written before the process exits with status 1. */
  fatal (message: string): void { this.#sink(formatLogLine('FATAL', message, this.#now()), 'stdout') }
  /** A line without timestamp or level (banner). */
  raw (line: string, stream: 'stdout' | 'stderr' = 'stdout'): void { this.#sink(line, stream) }
}
