// What /proc says about a process. The lab signals only processes it started, so before it
// signals a PID it checks that the PID still is that process (same start time: PIDs get reused)
// and that it sits in the lab's own cgroup.
import { readFileSync } from 'node:fs'

/** A process identified beyond its PID: the start time (clock ticks since boot) tells reuse apart. */
export interface ProcessRef {
  pid: number
  startTime: number
}

function readProc (pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8')
  } catch {
    return undefined
  }
}

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may itself contain spaces. */
function statFields (pid: number): { comm: string, rest: string[] } | undefined {
  const stat = readProc(pid, 'stat')
  if (stat === undefined) return undefined
  const open = stat.indexOf('(')
  const close = stat.lastIndexOf(')')
  if (open < 0 || close < open) return undefined
  return { comm: stat.slice(open + 1, close), rest: stat.slice(close + 2).trim().split(' ') }
}

/** The process's start time, or undefined when there is no such process. */
export function processStartTime (pid: number): number | undefined {
  const f = statFields(pid)
  // Field 22 of stat is starttime; `rest` starts at field 3 (state).
  const v = f?.rest[19]
  return v === undefined ? undefined : Number(v)
}

/** A reference to a running process (the caller's own with no argument). */
export function processRef (pid: number = process.pid): ProcessRef | undefined {
  const startTime = processStartTime(pid)
  return startTime === undefined ? undefined : { pid, startTime }
}

/** True while `ref` runs (not a zombie, PID not reused). */
export function isRunning (ref: ProcessRef): boolean {
  const f = statFields(ref.pid)
  if (f === undefined || f.rest[0] === 'Z' || f.rest[0] === 'X') return false
  return Number(f.rest[19]) === ref.startTime
}

/** The short command name (`comm`) of `pid`. */
export function processName (pid: number): string | undefined {
  return statFields(pid)?.comm
}

/** Direct children of `pid` (needs CONFIG_PROC_CHILDREN, present on Debian kernels). */
export function childPids (pid: number): number[] {
  const text = readProc(pid, `task/${pid}/children`) ?? ''
  return text.split(' ').filter(Boolean).map(Number)
}

/** The cgroup paths of `pid`, one per hierarchy line of /proc/<pid>/cgroup. */
export function processCgroups (pid: number): string[] {
  const text = readProc(pid, 'cgroup') ?? ''
  return text.split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1))
}
