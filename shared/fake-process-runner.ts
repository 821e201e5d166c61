// Test doubles of the ProcessRunner port, shipped beside the real runner so the
// systemctl and journalctl adapters can be unit-tested without starting anything. The scripted
// runner answers by argv and records every call; its spawned processes are plain objects whose
// stdout the test writes to, so a "journalctl --follow" can be driven line by line.
import { PassThrough } from 'node:stream'
import {
  ProcessError,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
  type SpawnedProcess,
  type SpawnOptions
} from './process-runner.js'

/**
 * Which command a rule answers: a predicate on the full argv (`[file, ...args]`), or a pattern
 * compared element by element (a string must be equal, a RegExp must match) with equal length.
 */
export type ArgvMatcher = ((argv: readonly string[]) => boolean) | ReadonlyArray<string | RegExp>

/** The scripted outcome of a `run`: what the process "printed" and how it exited. */
export interface ScriptedResult {
  stdout?: string
  stderr?: string
  /** Exit code (default 0); a code outside `okCodes` rejects like the real runner. */
  code?: number
  /** The process "timed out": rejects with a ProcessError whose `timedOut` is true. */
  timedOut?: boolean
}

/** An answer: a fixed result, an error to reject with, or a function of the call (may be async). */
export type ScriptedAnswer =
  | ScriptedResult
  | Error
  | ((call: RecordedRun) => ScriptedResult | Error | Promise<ScriptedResult | Error>)

/** One recorded `run`. */
export interface RecordedRun {
  kind: 'run'
  file: string
  args: readonly string[]
  opts: RunOptions
}

/** One recorded `spawn`. */
export interface RecordedSpawn {
  kind: 'spawn'
  file: string
  args: readonly string[]
  opts: SpawnOptions
  process: FakeSpawnedProcess
}

/** A call the fake received, in order. */
export type RecordedCall = RecordedRun | RecordedSpawn

// `used` counts the calls a rule answered; `times` is what is left of its budget.
interface RunRule { matcher: ArgvMatcher, answer: ScriptedAnswer, times: number, used: number }
interface SpawnRule { matcher: ArgvMatcher, onSpawn: (p: FakeSpawnedProcess) => void, times: number, used: number, highWaterMark?: number }

/** A script the code under test never (fully) used: see {@link FakeProcessRunner.pendingScripts}. */
export interface PendingScript {
  kind: 'run' | 'spawn'
  /** The matcher, printed: an argv pattern or `<predicate>`. */
  matcher: string
  /** Calls answered so far. */
  used: number
  /** Calls still expected (`Infinity` for a rule without `times` that was never used). */
  left: number
}

/** Whether `argv` satisfies `matcher`. */
export function argvMatches (matcher: ArgvMatcher, argv: readonly string[]): boolean {
  if (typeof matcher === 'function') return matcher(argv)
  if (matcher.length !== argv.length) return false
  return matcher.every((m, i) => {
    const a = argv[i] ?? ''
    return typeof m === 'string' ? m === a : m.test(a)
  })
}

function describeMatcher (m: ArgvMatcher): string {
  if (typeof m === 'function') return `<predicate ${m.toString().slice(0, 60)}>`
  return `[${m.map((x) => typeof x === 'string' ? JSON.stringify(x) : String(x)).join(', ')}]`
}

let nextPid = 40_000

/**
 * A spawned process the test controls: write to its stdout/stderr, end it with an exit code, or
 * let the code under test kill it. `kill` ends the streams and settles `exited` with the signal,
 * the way a real child that honours SIGTERM does.
 */
export class FakeSpawnedProcess implements SpawnedProcess {
  readonly pid = nextPid++
  readonly stdout: PassThrough
  readonly stderr: PassThrough
  readonly stdin = null
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Signals sent through `kill`, in order. */
  readonly kills: NodeJS.Signals[] = []
  #settle!: (v: { code: number | null, signal: NodeJS.Signals | null }) => void
  #done = false

  constructor (opts: { highWaterMark?: number } = {}) {
    // A small highWaterMark lets backpressure tests see `write` return false quickly.
    const hwm = opts.highWaterMark === undefined ? {} : { highWaterMark: opts.highWaterMark }
    this.stdout = new PassThrough(hwm)
    this.stderr = new PassThrough(hwm)
    this.exited = new Promise((resolve) => { this.#settle = resolve })
  }

  /** True until the process exits (by `exit` or `kill`). */
  get running (): boolean { return !this.#done }

  /** Writes `text` to stdout; returns what the stream's `write` returned (false = backpressure). */
  write (text: string): boolean {
    return this.stdout.write(text)
  }

  /** Writes `text` to stderr. */
  writeErr (text: string): void {
    this.stderr.write(text)
  }

  /** The process exits by itself with `code` (its streams end first, as with a real child). */
  exit (code: number): void {
    this.#finish({ code, signal: null })
  }

  kill (signal: NodeJS.Signals = 'SIGTERM'): void {
    this.kills.push(signal)
    this.#finish({ code: null, signal })
  }

  unref (): void {}

  #finish (how: { code: number | null, signal: NodeJS.Signals | null }): void {
    if (this.#done) return
    this.#done = true
    this.stdout.end()
    this.stderr.end()
    this.#settle(how)
  }
}

/**
 * A ProcessRunner that answers from a script. Rules are tried in the order they were added; a
 * rule with `times` is used up after that many calls. A call no rule answers rejects (run) or
 * throws (spawn) with a ProcessError naming the argv, so a test never passes by accident.
 *
 * The opposite mistake is caught too: a script the code never used means the test expected a
 * command that did not run (a bug in the code or in the test) or carries dead setup. Tests call
 * {@link assertNoPendingScripts} at teardown (`test/helpers/scripted-runner.ts` registers it).
 * A rule with `times: n` is pending until it answered n calls; a rule without `times` is pending
 * until it answered one.
 */
export class FakeProcessRunner implements ProcessRunner {
  /** Every call, in order. */
  readonly calls: RecordedCall[] = []
  #runRules: RunRule[] = []
  #spawnRules: SpawnRule[] = []

  /** Answers `run` calls that match `matcher` (`times` of them; default: every one). */
  onRun (matcher: ArgvMatcher, answer: ScriptedAnswer, opts: { times?: number } = {}): this {
    this.#runRules.push({ matcher, answer, times: opts.times ?? Infinity, used: 0 })
    return this
  }

  /**
   * Lets `spawn` start processes that match `matcher`; `onSpawn` may script the new process.
   * `highWaterMark` sizes its stdout buffer (small values make backpressure visible).
   */
  onSpawn (matcher: ArgvMatcher, onSpawn: (p: FakeSpawnedProcess) => void = () => {}, opts: { times?: number, highWaterMark?: number } = {}): this {
    this.#spawnRules.push({ matcher, onSpawn, times: opts.times ?? Infinity, used: 0, ...(opts.highWaterMark !== undefined && { highWaterMark: opts.highWaterMark }) })
    return this
  }

  /** Scripts not used as often as they promised, in the order they were added. */
  pendingScripts (): PendingScript[] {
    const pending = (kind: PendingScript['kind'], r: RunRule | SpawnRule): PendingScript[] =>
      (r.times === Infinity ? r.used === 0 : r.times > 0)
        ? [{ kind, matcher: describeMatcher(r.matcher), used: r.used, left: r.times }]
        : []
    return [...this.#runRules.flatMap((r) => pending('run', r)), ...this.#spawnRules.flatMap((r) => pending('spawn', r))]
  }

  /** Throws, naming each one, when a script is pending (like undici's assertNoPendingInterceptors). */
  assertNoPendingScripts (): void {
    const pending = this.pendingScripts()
    if (pending.length === 0) return
    const lines = pending.map((p) => `  on${p.kind === 'run' ? 'Run' : 'Spawn'} ${p.matcher}: used ${p.used}, ${p.left === Infinity ? 'never used' : `${p.left} more expected`}`)
    throw new Error(`FakeProcessRunner: ${pending.length} scripted answer(s) never used:\n${lines.join('\n')}`)
  }

  /** The `run` calls, as argv arrays. */
  get runs (): string[][] {
    return this.calls.filter((c): c is RecordedRun => c.kind === 'run').map((c) => [c.file, ...c.args])
  }

  /** Every process spawned so far. */
  get spawned (): FakeSpawnedProcess[] {
    return this.calls.filter((c): c is RecordedSpawn => c.kind === 'spawn').map((c) => c.process)
  }

  /** Spawned processes that have not exited: a leak check for tests. */
  get running (): FakeSpawnedProcess[] {
    return this.spawned.filter((p) => p.running)
  }

  async run (file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
    const call: RecordedRun = { kind: 'run', file, args: [...args], opts }
    this.calls.push(call)
    const argv = [file, ...args]
    const command = argv.join(' ')
    opts.signal?.throwIfAborted()
    const rule = this.#runRules.find((r) => r.times > 0 && argvMatches(r.matcher, argv))
    if (rule === undefined) throw new ProcessError(command, null, null, 'FakeProcessRunner: no scripted answer', '', false)
    rule.times--
    rule.used++
    const answer = typeof rule.answer === 'function' ? await rule.answer(call) : rule.answer
    opts.signal?.throwIfAborted()
    if (answer instanceof Error) throw answer
    const stdout = answer.stdout ?? ''
    const stderr = answer.stderr ?? ''
    if (answer.timedOut === true) throw new ProcessError(command, null, 'SIGKILL', stderr.trim(), stdout, true)
    const code = answer.code ?? 0
    if (!(opts.okCodes ?? [0]).includes(code)) throw new ProcessError(command, code, null, stderr.trim(), stdout, false)
    return { stdout, stderr, code }
  }

  spawn (file: string, args: readonly string[], opts: SpawnOptions = {}): FakeSpawnedProcess {
    const argv = [file, ...args]
    const rule = this.#spawnRules.find((r) => r.times > 0 && argvMatches(r.matcher, argv))
    if (rule === undefined) throw new ProcessError(argv.join(' '), null, null, 'FakeProcessRunner: no scripted spawn', '', false)
    rule.times--
    rule.used++
    const process = new FakeSpawnedProcess(rule.highWaterMark === undefined ? {} : { highWaterMark: rule.highWaterMark })
    this.calls.push({ kind: 'spawn', file, args: [...args], opts, process })
    // Like the real runner: an abort signal kills the child.
    if (opts.signal !== undefined) {
      if (opts.signal.aborted) process.kill('SIGTERM')
      else opts.signal.addEventListener('abort', () => { process.kill('SIGTERM') }, { once: true })
    }
    rule.onSpawn(process)
    return process
  }
}

/** A ProcessRunner that cannot start anything (error paths: binary missing, no permission). */
export class FailingProcessRunner implements ProcessRunner {
  constructor (readonly reason = 'FailingProcessRunner: cannot start processes') {}

  async run (file: string, args: readonly string[]): Promise<RunResult> {
    throw new ProcessError([file, ...args].join(' '), null, null, this.reason, '', false)
  }

  spawn (file: string, args: readonly string[]): SpawnedProcess {
    throw new ProcessError([file, ...args].join(' '), null, null, this.reason, '', false)
  }
}
