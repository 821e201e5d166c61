// Running commands inside a node: `nsenter -t <leader> -a` joins all of the container's
// namespaces (mount, pid, net, ...). No `systemctl -M`/`machinectl`: the host has no machined
// and no system bus (measured with systemd-nspawn 252). The command gets an empty environment plus
// PATH (what `env -i PATH=...` does), so host variables such as NODE_EXTRA_CA_CERTS stay out.
import { processRunner, type ProcessRunner, type RunResult } from '../../shared/process-runner.js'
import { LAB_PATH } from './nspawn.js'

/** Options of {@link nodeExec}. */
export interface ExecOptions {
  timeoutMs?: number
  /** Exit codes that count as success (default [0]). */
  okCodes?: number[]
  /** Written to the command's stdin. */
  input?: string
  /** Extra environment variables for the command. */
  env?: Record<string, string>
  signal?: AbortSignal
}

const DEFAULT_TIMEOUT_MS = 30_000
/** Exit codes 0–255: every outcome is returned, none thrown. */
export const ANY_EXIT_CODE: number[] = Array.from({ length: 256 }, (_, i) => i)

/** Runs `argv` inside the node whose systemd is `leaderPid`. */
export async function nodeExec (leaderPid: number, argv: readonly string[], opts: ExecOptions = {}, runner: ProcessRunner = processRunner): Promise<RunResult> {
  if (argv.length === 0) throw new Error('nodeExec: empty argv')
  return await runner.run('nsenter', ['-t', String(leaderPid), '-a', ...argv], {
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    env: { PATH: LAB_PATH, LANG: 'C.UTF-8', ...opts.env },
    ...(opts.okCodes !== undefined && { okCodes: opts.okCodes }),
    ...(opts.input !== undefined && { input: opts.input }),
    ...(opts.signal !== undefined && { signal: opts.signal })
  })
}

/** `systemctl is-system-running` inside the node ('running', 'starting', 'degraded', ...). */
export async function systemState (leaderPid: number, runner: ProcessRunner = processRunner): Promise<string> {
  // Exits non-zero for every state but running; early in boot it fails to reach the bus at all.
  const r = await nodeExec(leaderPid, ['systemctl', 'is-system-running'], { okCodes: ANY_EXIT_CODE, timeoutMs: 5000 }, runner)
  return r.stdout.trim()
}

/** The messages of `unit` in the node's journal, one per line (`journalctl -u <unit> -o cat`). */
export async function unitJournal (leaderPid: number, unit: string, opts: { grep?: string } = {}, runner: ProcessRunner = processRunner): Promise<string> {
  const args = ['journalctl', '--no-pager', '-u', unit, '-o', 'cat', ...(opts.grep !== undefined ? ['-g', opts.grep] : [])]
  // journalctl -g exits 1 when nothing matches.
  const r = await nodeExec(leaderPid, args, { okCodes: opts.grep !== undefined ? [0, 1] : [0] }, runner)
  return r.stdout
}
