// Child process of the commit-crash test: runs one apply (or rollback) on real files in DIR and
// SIGKILLs itself at an exact point of the commit sequence, named by a file event of the state
// directory: just before or just after the rename of a record's temporary file (the temporary file
// then is complete and fsynced), or just before or after the removal of a record. The point is
// armed at the `commit` step's start, so earlier writes of the same records (pending.json's
// phases) do not count. Without a point the apply runs to its end.
//   commit-crash-child.ts DIR '{"action":"apply","revision":3,"kill":{"file":"^applied\\.json$","when":"after"}}'
// fs.promises (the object behind node:fs/promises) is patched before the agent's modules load, so their named imports see the hook.
import { promises as fsp } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { basename } from 'node:path'

export interface CommitKill {
  /** Base name of the record (a regular expression): `applied.json`, `3.sealed`, ... */
  file: string
  /** `before`: the temporary file is written, not renamed (or the record not yet removed); `after`: renamed (removed). */
  when: 'before' | 'after'
}
/** `daemon`: what the daemon does at start (recover, then boot convergence). */
export interface CommitCrashOrder { action: 'apply' | 'rollback' | 'daemon', revision?: number, kill?: CommitKill }

const [dir, orderText] = process.argv.slice(2)
if (dir === undefined || orderText === undefined) throw new Error('usage: commit-crash-child.ts DIR ORDER-JSON')
const order = JSON.parse(orderText) as CommitCrashOrder
let armed = false
const hits = (target: string): boolean => armed && order.kill !== undefined && new RegExp(order.kill.file).test(basename(target))
const die = (): never => { process.kill(process.pid, 'SIGKILL'); throw new Error('unreachable') }

const rename = fsp.rename
fsp.rename = async (from: Parameters<typeof rename>[0], to: Parameters<typeof rename>[1]): Promise<void> => {
  const at = hits(String(to))
  if (at && order.kill?.when === 'before') die()
  await rename(from, to)
  if (at) die()
}
const rm = fsp.rm
fsp.rm = async (path: Parameters<typeof rm>[0], opts?: Parameters<typeof rm>[1]): Promise<void> => {
  const at = hits(String(path))
  if (at && order.kill?.when === 'before') die()
  await rm(path, opts)
  if (at) die()
}
syncBuiltinESMExports()

const { crashApplier, markerChange } = await import('./crash-child.js')
const { applier } = await crashApplier(dir)
const onEvent = (e: { step: string, status: string }): void => { if (e.step === 'commit' && e.status === 'started') armed = true }
if (order.action === 'daemon') {
  await applier.recover({ onEvent })
  // Boot convergence re-applies through apply(), whose events this order cannot reach: armed now.
  armed = true
  const c = await applier.converge()
  process.stdout.write(JSON.stringify(c.state === 'applied' ? { converged: c.result.revision, result: c.result.result } : { converged: c.state }) + '\n')
} else {
  const r = order.action === 'apply' ? await applier.apply(markerChange(order.revision ?? 1), { onEvent }) : await applier.rollback({ onEvent })
  process.stdout.write(JSON.stringify({ result: r.result, revision: r.revision }) + '\n')
}
