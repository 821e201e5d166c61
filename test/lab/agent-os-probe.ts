// Runs INSIDE a lab node (`node /opt/keyroll/dist/test/lab/agent-os-probe.js <mode> ...`): the
// agent's real OS adapters (systemctl, journalctl, the process runner, the system clock) and the
// restart verifier against the node's real systemd, journald and minkms (emulator). Prints one
// JSON object on stdout for the lab test to judge.
//
//   adapters --endpoint HOST:PORT --ca-dir DIR     cursor, status, restart, follow to the ready line, read
//   verify   --endpoint HOST:PORT --ca-dir DIR [--deadline MS] [--stable MS]
//   fail-then-fix --fault FILE ...                  verify (fails), remove FILE, verify again at once:
//                                                   the rollback case, restarting a crash-looping unit
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { JournalctlJournal } from '../../agent/os/journalctl-journal.js'
import { SystemctlServiceManager } from '../../agent/os/systemctl-service-manager.js'
import { RestartVerifier } from '../../agent/verify/restart-verifier.js'
import { MINKMS_READY } from '../../agent/verify/verdict.js'
import { systemClock } from '../../shared/clock.js'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { ChildProcessRunner } from '../../shared/process-runner.js'

const UNIT = 'minkms.service'

async function caBundle (dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.pem') || f.endsWith('.crt'))
  return (await Promise.all(files.map(async (f) => await readFile(join(dir, f), 'utf8')))).join('\n')
}

async function main (): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      endpoint: { type: 'string' },
      'ca-dir': { type: 'string' },
      deadline: { type: 'string', default: '30000' },
      stable: { type: 'string', default: '2000' },
      fault: { type: 'string' }
    }
  })
  const runner = new ChildProcessRunner()
  const service = new SystemctlServiceManager({ unit: UNIT, runner })
  const journal = new JournalctlJournal({ runner })
  const client = createMinkmsClient({ endpoints: [values.endpoint ?? ''], ca: await caBundle(values['ca-dir'] ?? ''), timeoutMs: 1000 })
  try {
    const health = async (): Promise<boolean> => await client.ready()
    const deadline = Number(values.deadline)
    const stable = Number(values.stable)
    let out: unknown
    if (positionals[0] === 'adapters') out = await adapters(service, journal)
    else if (positionals[0] === 'fail-then-fix') {
      const failed = await verify(service, journal, health, deadline, stable)
      await rm(values.fault ?? '', { force: true })
      out = { failed, fixed: await verify(service, journal, health, deadline, stable) }
    } else out = await verify(service, journal, health, deadline, stable)
    process.stdout.write(JSON.stringify(out) + '\n')
  } finally {
    await client.close()
  }
}

/** Each adapter on its own: what the lab test checks against systemd's real behaviour. */
async function adapters (service: SystemctlServiceManager, journal: JournalctlJournal): Promise<unknown> {
  const cursor = await journal.tailCursor()
  const before = await service.status()
  await service.restart()
  const ac = new AbortController()
  const followed: Array<{ message: string, origin?: string, invocationId?: string, lagMs: number }> = []
  const timer = setTimeout(() => { ac.abort() }, 20_000)
  for await (const e of journal.follow({ unit: 'minkms', afterCursor: cursor, signal: ac.signal })) {
    followed.push({ message: e.message, ...(e.origin !== undefined && { origin: e.origin }), ...(e.invocationId !== undefined && { invocationId: e.invocationId }), lagMs: Date.now() - e.realtimeUs / 1000 })
    if (MINKMS_READY.test(e.message) && e.invocationId !== before.invocationId) break
  }
  clearTimeout(timer)
  const after = await service.status()
  const read = await journal.read({ unit: UNIT, afterCursor: cursor })
  const limited = await journal.read({ unit: UNIT, afterCursor: cursor, limit: 3 })
  const nosuch = await new JournalctlJournal({ runner: new ChildProcessRunner() }).read({ unit: 'never-logged.service' })
  const notFound = await new SystemctlServiceManager({ unit: 'nosuch.service', runner: new ChildProcessRunner() }).restart()
    .then(() => 'restarted', (e: { code?: string, stderr?: string }) => ({ code: e.code, stderr: e.stderr }))
  return { cursor, before, after, followed, read: read.map((e) => e.message), limited: limited.map((e) => e.message), nosuch: nosuch.length, notFound }
}

/** prepare → baseline → restart → verdict, exactly as the applier does it. */
async function verify (service: SystemctlServiceManager, journal: JournalctlJournal, health: () => Promise<boolean>, deadlineMs: number, stableForMs: number): Promise<unknown> {
  const verifier = new RestartVerifier({ service, journal, clock: systemClock, health })
  const verdict = await verifier.restartAndVerify({ deadlineMs, stableForMs })
  return { verdict, returnedAt: Date.now(), children: await childrenOf(process.pid) }
}

/** Live child processes of `pid` (a journalctl left behind by verify() would show here). */
async function childrenOf (pid: number): Promise<string[]> {
  const out: string[] = []
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue
    const stat = await readFile(`/proc/${d}/stat`, 'utf8').catch(() => '')
    // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (rest[1] === String(pid)) out.push(`${d} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`)
  }
  return out
}

main().catch((e: unknown) => {
  process.stderr.write(`agent-os-probe: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  process.exitCode = 1
})
