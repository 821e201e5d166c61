// Runs inside a lab node (node /opt/keyroll/dist/test/lab/crash-killer.js SPEC): SIGKILLs the
// agent the moment its apply reaches a chosen point, seen from outside through the files the
// apply creates (inotify), so kills land in steps that last milliseconds (backup, write, commit),
// which a kill sent from the test process after an NDJSON event would always miss.
// SPEC (JSON): { pid, dir: the watched directory, match: regexp of a file name appearing there,
// nth: kill at the nth such name (1 = first), delayMs, how: 'main' (kill -9 of the main process,
// as the OOM killer does) | 'unit' (cgroup.kill: the main process and its children at once, as
// `systemctl kill -s KILL`), armed: a file created once the watch is set }.
// Prints one JSON line: { killedAt, file } or { timeout: true }.
import { watch, writeFileSync } from 'node:fs'

interface Spec { pid: number, dir: string, match: string, nth: number, delayMs: number, how: 'main' | 'unit', armed: string, cgroup: string, timeoutMs: number }

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec
const re = new RegExp(spec.match)
// Each atomic write's temporary file has its own name, seen at creation and again at the rename:
// count names, not events.
const seen = new Set<string>()
const kill = (file: string): void => {
  if (spec.how === 'unit') writeFileSync(`${spec.cgroup}/cgroup.kill`, '1')
  else process.kill(spec.pid, 'SIGKILL')
  process.stdout.write(JSON.stringify({ killedAt: Date.now(), file }) + '\n')
  process.exit(0)
}
const w = watch(spec.dir, { persistent: true }, (_event, name) => {
  if (name === null || !re.test(name) || seen.has(name)) return
  seen.add(name)
  if (seen.size !== spec.nth) return
  w.close()
  if (spec.delayMs <= 0) kill(name)
  else setTimeout(() => { kill(name) }, spec.delayMs)
})
writeFileSync(spec.armed, '')
setTimeout(() => { process.stdout.write(JSON.stringify({ timeout: true }) + '\n'); process.exit(0) }, spec.timeoutMs)
