// Nodes run detached from the test process, so a test process that dies without its teardown
// (tap's timeout sends SIGTERM; a crash exits) would leave containers running. This kills the
// labs it still holds with cgroup.kill: synchronous, so it works in 'exit' and signal handlers.
// Network, cgroup directories and files are left to the next `up` of that id or `down --stale`
// (the owner is then dead, so the lab is stale).
import { killLabCgroupsNow } from './cgroups.js'

const held = new Set<number>()
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
let installed = false

function killAll (): void {
  for (const id of held) killLabCgroupsNow(id)
  held.clear()
}

function onSignal (signal: NodeJS.Signals): void {
  killAll()
  for (const s of SIGNALS) process.removeListener(s, onSignal)
  // With our listener gone, the signal's default action (or tap's own handler) ends the process.
  process.kill(process.pid, signal)
}

/** Registers lab `id` to be killed if this process ends before {@link release} is called. */
export function hold (id: number): void {
  held.add(id)
  if (installed) return
  installed = true
  process.on('exit', killAll)
  for (const s of SIGNALS) process.on(s, onSignal)
}

/** The lab was torn down normally. */
export function release (id: number): void {
  held.delete(id)
}
