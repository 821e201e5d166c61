// The only module in the project that imports node:child_process (a lint rule keeps it so: one place gives
// every subprocess a timeout, a kill on abort and a fake for tests).
// Every external command goes through here: an argument array (never a shell), a mandatory
// timeout, an optional AbortSignal, bounded output, and a typed error with the exit code and the
// tail of stderr so callers can report what went wrong without re-running anything.
import { SharedError } from './errors.js'
import { execFile, spawn as spawnChild, type ChildProcess } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'

/** Options for a command that runs to completion. */
export interface RunOptions {
  /** Hard limit in milliseconds; the process is killed (SIGKILL) when it passes. Mandatory. */
  timeoutMs: number
  /** Aborting kills the process and rejects with the abort reason. */
  signal?: AbortSignal
  /** Largest stdout/stderr kept, in bytes (default 16 MiB). */
  maxBuffer?: number
  /** Environment for the child; default: the parent's. */
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Written to the child's stdin, which is then closed. */
  input?: string
  /** Exit codes that count as success (default [0]). */
  okCodes?: number[]
}

export interface RunResult {
  stdout: string
  stderr: string
  /** Exit code (one of okCodes). */
  code: number
}

/** Options for a long-running child (journal follow, a container). */
export interface SpawnOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  signal?: AbortSignal
  /** Start the child in its own session (setsid) so it outlives our process group. */
  detached?: boolean
  /** Where the child's stdout/stderr go: 'pipe' (default) or an open file descriptor. */
  stdout?: 'pipe' | 'ignore' | number
  stderr?: 'pipe' | 'ignore' | number
  stdin?: 'pipe' | 'ignore'
}

/** A started child process. */
export interface SpawnedProcess {
  readonly pid: number
  readonly stdout: Readable | null
  readonly stderr: Readable | null
  readonly stdin: Writable | null
  /** Resolves when the process has exited, with its code (null when killed by a signal). */
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  kill (signal?: NodeJS.Signals): void
  /** Let our event loop exit while the child keeps running (detached children). */
  unref (): void
}

/** Runs external programs. Implementations must be safe to call concurrently. */
export interface ProcessRunner {
  /** Runs `file` with `args` to completion; rejects with ProcessError on a bad exit or timeout. */
  run (file: string, args: readonly string[], opts: RunOptions): Promise<RunResult>
  /** Starts `file` with `args` and returns at once. */
  spawn (file: string, args: readonly string[], opts?: SpawnOptions): SpawnedProcess
}

/** A command failed: non-zero exit, killed by timeout or signal, or could not start. */
export class ProcessError extends SharedError {
  constructor (
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderrTail: string,
    readonly stdout: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown }
  ) {
    const why = timedOut
      ? 'timed out'
      : exitCode !== null ? `exited with ${exitCode}` : `was killed by ${signal ?? 'a signal'}`
    super('SHR_PROCESS_FAILED', `${command} ${why}${stderrTail ? `: ${stderrTail}` : ''}`, options)
  }
}

/** The stderr tail of a failed command, or '' for any other error (a timeout has one too). */
export function stderrOf (err: unknown): string {
  return err instanceof ProcessError ? err.stderrTail : ''
}

const TAIL = 2000

function tail (s: string): string {
  const t = s.trim()
  return t.length > TAIL ? '…' + t.slice(-TAIL) : t
}

/** The real runner, on node:child_process. */
export class ChildProcessRunner implements ProcessRunner {
  run (file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
    const okCodes = opts.okCodes ?? [0]
    const command = [file, ...args].join(' ')
    return new Promise((resolve, reject) => {
      const child = execFile(file, args, {
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024,
        encoding: 'utf8',
        ...(opts.env !== undefined && { env: opts.env }),
        ...(opts.cwd !== undefined && { cwd: opts.cwd }),
        ...(opts.signal !== undefined && { signal: opts.signal })
      }, (err, stdout, stderr) => {
        if (err === null) { resolve({ stdout, stderr, code: 0 }); return }
        const e = err as NodeJS.ErrnoException & { code?: unknown, killed?: boolean, signal?: string | null }
        const exitCode = typeof e.code === 'number' ? e.code : null
        if (exitCode !== null && okCodes.includes(exitCode)) { resolve({ stdout, stderr, code: exitCode }); return }
        if (e.name === 'AbortError') { reject(e); return }
        const timedOut = e.killed === true && e.signal === 'SIGKILL' && exitCode === null
        reject(new ProcessError(command, exitCode, e.signal ?? null,
          tail(stderr || (typeof e.code === 'string' ? e.message : '')), stdout, timedOut, { cause: err }))
      })
      if (opts.input !== undefined) child.stdin?.end(opts.input)
      else child.stdin?.end()
    })
  }

  spawn (file: string, args: readonly string[], opts: SpawnOptions = {}): SpawnedProcess {
    const child: ChildProcess = spawnChild(file, args, {
      stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'pipe', opts.stderr ?? 'pipe'],
      detached: opts.detached ?? false,
      ...(opts.env !== undefined && { env: opts.env }),
      ...(opts.cwd !== undefined && { cwd: opts.cwd }),
      ...(opts.signal !== undefined && { signal: opts.signal })
    })
    const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }))
      child.once('error', () => resolve({ code: null, signal: null }))
    })
    // An AbortSignal makes spawn emit 'error' (AbortError); exits are reported through `exited`.
    child.on('error', () => {})
    if (child.pid === undefined) {
      throw new ProcessError([file, ...args].join(' '), null, null, 'could not start', '', false)
    }
    return {
      pid: child.pid,
      stdout: child.stdout,
      stderr: child.stderr,
      stdin: child.stdin,
      exited,
      kill: (signal = 'SIGTERM') => { child.kill(signal) },
      unref: () => { child.unref() }
    }
  }
}

/** A shared default instance. */
export const processRunner: ProcessRunner = new ChildProcessRunner()
