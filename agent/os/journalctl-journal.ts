// The real Journal: `journalctl -o json` through the project's one process runner
// (so every subprocess has a timeout and can be faked). No npm package reads the journal better
// than ~15 lines of spawn + NDJSON split (the ones tried need native builds or sd-journal), and
// journald has no D-Bus reader API.
import { stderrOf, type ProcessRunner, type SpawnedProcess } from '../../shared/process-runner.js'
import { OsPortError } from '../errors.js'
import type { Journal, JournalEntry } from './journal.js'
import { followArgs, parseShownCursor, readArgs, tailCursorArgs } from './journalctl-args.js'
import { fullUnitName, parseJournalLine } from './journal-entry-parser.js'
import { lines } from '../../shared/ndjson-lines.js'

/** Options of {@link JournalctlJournal}. */
export interface JournalctlJournalOptions {
  runner: ProcessRunner
  /** The journalctl binary (default `journalctl`, found on PATH). */
  journalctl?: string
  /** Limit for one-shot calls (default 15 s). */
  timeoutMs?: number
  /** How long a follower gets to exit after SIGTERM before SIGKILL (default 2 s). */
  killGraceMs?: number
}

const STDERR_KEEP = 4096

/** Reads the journal with journalctl. Safe to call concurrently: each call is its own process. */
export class JournalctlJournal implements Journal {
  readonly #runner: ProcessRunner
  readonly #bin: string
  readonly #timeoutMs: number
  readonly #killGraceMs: number

  constructor (opts: JournalctlJournalOptions) {
    this.#runner = opts.runner
    this.#bin = opts.journalctl ?? 'journalctl'
    this.#timeoutMs = opts.timeoutMs ?? 15_000
    this.#killGraceMs = opts.killGraceMs ?? 2000
  }

  async tailCursor (): Promise<string> {
    // The whole journal's tail, not the unit's: `-u X --show-cursor -n 0` exits 1 with nothing
    // when X never logged (measured), and the baseline must work on a fresh node too.
    let r
    try {
      r = await this.#runner.run(this.#bin, tailCursorArgs(), { timeoutMs: this.#timeoutMs, okCodes: [0, 1] })
    } catch (e) {
      throw new OsPortError('AGT_JOURNAL_READ_FAILED', `journalctl --show-cursor failed: ${(e as Error).message}`, { stderr: stderrOf(e), cause: e })
    }
    const cursor = parseShownCursor(r.stdout)
    if (cursor !== undefined) return cursor
    // An empty journal has no cursor: 252 exits 1 with "No journal files were found." (or 0
    // and nothing under -q). Everything that comes later is "after" it.
    if (r.code === 0 || /No journal files were found|No entries/i.test(r.stderr + r.stdout)) return ''
    const said = r.stderr.trim()
    throw new OsPortError('AGT_JOURNAL_READ_FAILED', `journalctl --show-cursor printed no cursor (exit ${r.code}${said === '' ? ', nothing on stderr: is systemd-journald running here?' : `: ${said}`})`, { stderr: said })
  }

  async read (opts: { unit: string, afterCursor?: string, limit?: number }): Promise<JournalEntry[]> {
    const unit = fullUnitName(opts.unit)
    let stdout: string
    try {
      stdout = (await this.#runner.run(this.#bin, readArgs(unit, opts.afterCursor, opts.limit), { timeoutMs: this.#timeoutMs })).stdout
    } catch (e) {
      throw new OsPortError('AGT_JOURNAL_READ_FAILED', `journalctl -u ${unit} failed: ${(e as Error).message}`, { stderr: stderrOf(e), cause: e })
    }
    const entries: JournalEntry[] = []
    for (const line of stdout.split('\n')) {
      const e = parseJournalLine(line, unit)
      if (e !== undefined) entries.push(e)
    }
    return entries
  }

  follow (opts: { unit: string, afterCursor?: string, signal: AbortSignal }): AsyncIterable<JournalEntry> {
    return this.#follow(fullUnitName(opts.unit), opts.afterCursor, opts.signal)
  }

  /**
   * The follower. Lazy: journalctl starts on the first `next()`. Ends quietly when `signal`
   * aborts; throws AGT_JOURNAL_FOLLOW_FAILED when journalctl cannot start or exits by itself
   * (a bad cursor, journald gone). The child is gone before the iteration settles: on abort, on
   * a consumer's `break` (the generator's `return`), and on error.
   */
  async * #follow (unit: string, afterCursor: string | undefined, signal: AbortSignal): AsyncGenerator<JournalEntry> {
    if (signal.aborted) return
    let child: SpawnedProcess
    try {
      child = this.#runner.spawn(this.#bin, followArgs(unit, afterCursor), { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    } catch (e) {
      throw new OsPortError('AGT_JOURNAL_FOLLOW_FAILED', `journalctl --follow -u ${unit} could not start: ${(e as Error).message}`, { stderr: stderrOf(e), cause: e })
    }
    let stderr = ''
    // Drained as it comes: a child blocked on a full stderr pipe would stop writing stdout too.
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString('utf8')).slice(-STDERR_KEEP) })
    const kill = (): void => { child.kill('SIGTERM') }
    signal.addEventListener('abort', kill, { once: true })
    try {
      if (child.stdout === null) throw new Error('journalctl started without a stdout pipe')
      for await (const line of lines(child.stdout)) {
        if (signal.aborted) return
        const entry = parseJournalLine(line, unit)
        if (entry !== undefined) yield entry
      }
      if (signal.aborted) return
      const exit = await child.exited
      if (signal.aborted) return
      const how = exit.code !== null ? `exit ${exit.code}` : `signal ${exit.signal ?? '?'}`
      throw new OsPortError('AGT_JOURNAL_FOLLOW_FAILED', `journalctl --follow -u ${unit} ended by itself (${how})${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
        { stderr: stderr.trim() })
    } finally {
      signal.removeEventListener('abort', kill)
      await this.#stop(child)
    }
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the child has exited. */
  async #stop (child: SpawnedProcess): Promise<void> {
    let gone = false
    const exited = child.exited.then(() => { gone = true })
    // kill() on a child that already exited is a no-op (node checks), so no state check first.
    child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.#killGraceMs) })
    await Promise.race([exited, grace])
    clearTimeout(timer)
    if (!gone) {
      child.kill('SIGKILL')
      await exited
    }
  }
}
