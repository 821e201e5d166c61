// A child process of the demo (the lab CLI, the keyroll CLI) whose output is shown as it
// arrives and also kept (the demo reads the lab's status from it and checks it for secrets). It
// ends early when the demo is interrupted: SIGTERM to its own PID, never to anything by name.
import { processRunner, type ProcessRunner } from '../../shared/process-runner.js'

/** How a child ended and what it wrote. */
export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Killed by the demo: interrupted or past its deadline. */
  stopped?: 'interrupted' | 'deadline'
}

/** Options of {@link runChild}. */
export interface ChildOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Called with each chunk of stdout / stderr as it arrives (default: not shown). */
  onStdout?: (chunk: string) => void
  onStderr?: (chunk: string) => void
  /** Aborting sends SIGTERM to the child (and SIGKILL 10 s later if it is still there). */
  signal?: AbortSignal
  /** Past this, the child gets SIGTERM the same way. */
  deadlineMs: number
  runner?: ProcessRunner
}

/** Runs `file args` to its end, streaming its output through the callbacks. */
export async function runChild (file: string, args: readonly string[], opts: ChildOptions): Promise<ChildResult> {
  const runner = opts.runner ?? processRunner
  const child = runner.spawn(file, args, { stdin: 'ignore', ...(opts.env !== undefined && { env: opts.env }), ...(opts.cwd !== undefined && { cwd: opts.cwd }) })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (c: string) => { stdout += c; opts.onStdout?.(c) })
  child.stderr?.setEncoding('utf8').on('data', (c: string) => { stderr += c; opts.onStderr?.(c) })
  let stopped: ChildResult['stopped']
  let killTimer: NodeJS.Timeout | undefined
  const stop = (why: NonNullable<ChildResult['stopped']>): void => {
    if (stopped !== undefined) return
    stopped = why
    child.kill('SIGTERM')
    killTimer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
    killTimer.unref()
  }
  const deadline = setTimeout(() => { stop('deadline') }, opts.deadlineMs)
  const onAbort = (): void => { stop('interrupted') }
  if (opts.signal?.aborted === true) onAbort()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  // Both pipes drained as well as the process gone: the last lines are shown before we go on.
  const closed = Promise.all([child.stdout, child.stderr].map(async (s) => await new Promise<void>((resolve) => {
    if (s === null || s.readableEnded) { resolve(); return }
    s.once('close', () => { resolve() })
  })))
  const { code, signal } = await child.exited
  await closed
  clearTimeout(deadline)
  if (killTimer !== undefined) clearTimeout(killTimer)
  opts.signal?.removeEventListener('abort', onAbort)
  return { code, signal, stdout, stderr, ...(stopped !== undefined && { stopped }) }
}

/** Writes whole lines of a stream's chunks with `prefix` in front of each (the rest waits for its newline). */
export function prefixLines (prefix: string, write: (s: string) => void): { push: (chunk: string) => void, flush: () => void } {
  let pending = ''
  return {
    push: (chunk) => {
      pending += chunk
      const at = pending.lastIndexOf('\n')
      if (at < 0) return
      write(pending.slice(0, at + 1).split('\n').slice(0, -1).map((l) => `${prefix}${l}\n`).join(''))
      pending = pending.slice(at + 1)
    },
    flush: () => {
      if (pending !== '') write(`${prefix}${pending}\n`)
      pending = ''
    }
  }
}
