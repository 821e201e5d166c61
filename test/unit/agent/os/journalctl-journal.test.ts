import t from 'tap'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OsPortError } from '../../../../agent/errors.js'
import type { JournalEntry } from '../../../../agent/os/journal.js'
import { JournalctlJournal } from '../../../../agent/os/journalctl-journal.js'
import type { FakeSpawnedProcess } from '../../../../shared/fake-process-runner.js'
import { scriptedRunner } from '../../../helpers/scripted-runner.js'
import { ChildProcessRunner } from '../../../../shared/process-runner.js'

const U = 'minkms.service'
let seq = 0
/** One line of `journalctl -o json` for the unit's own output. */
function line (message: string, extra: Record<string, unknown> = {}): string {
  seq++
  return JSON.stringify({ __CURSOR: `s=x;i=${seq}`, __REALTIME_TIMESTAMP: String(1_795_878_992_000_000 + seq), MESSAGE: message, _SYSTEMD_UNIT: U, _SYSTEMD_INVOCATION_ID: 'aa', _PID: '65', PRIORITY: '6', ...extra }) + '\n'
}

/** Waits (event-driven, bounded) until `cond` holds. */
async function until (cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

t.test('tailCursor: the whole journal\'s last cursor', async (t) => {
  const r = scriptedRunner(t).onRun(['journalctl', '--show-cursor', '-n', '0', '-q', '--no-pager'], { stdout: '-- cursor: s=6dc7;i=36\n' })
  t.equal(await new JournalctlJournal({ runner: r }).tailCursor(), 's=6dc7;i=36')
})

t.test('tailCursor: an empty journal is \'\' (252 exits 1 with "No journal files were found.")', async (t) => {
  const r = scriptedRunner(t).onRun(() => true, { code: 1, stderr: 'No journal files were found.\n' })
  t.equal(await new JournalctlJournal({ runner: r }).tailCursor(), '')
})

t.test('tailCursor: other failures are AGT_JOURNAL_READ_FAILED', async (t) => {
  const r1 = scriptedRunner(t).onRun(() => true, { code: 1, stderr: 'Failed to open journal: Permission denied\n' })
  const e1 = await new JournalctlJournal({ runner: r1 }).tailCursor().catch((e: unknown) => e) as OsPortError
  t.equal(e1.code, 'AGT_JOURNAL_READ_FAILED')
  t.match(e1.stderr, /Permission denied/)
  const r2 = scriptedRunner(t).onRun(() => true, { code: 2 })
  t.equal((await new JournalctlJournal({ runner: r2 }).tailCursor().catch((e: unknown) => e) as OsPortError).code, 'AGT_JOURNAL_READ_FAILED')
})

t.test('read: parses NDJSON output, unit name completed, cursor and limit passed', async (t) => {
  const r = scriptedRunner(t).onRun((a) => a.includes('-u'), { stdout: line('a') + line('b') + '\n' })
  const entries = await new JournalctlJournal({ runner: r }).read({ unit: 'minkms', afterCursor: 'c1', limit: 2 })
  t.same(entries.map((e) => e.message), ['a', 'b'])
  const args = r.runs[0] ?? []
  t.equal(args[2], 'minkms.service')
  t.ok(args.includes('--after-cursor=c1'))
  t.same(args.slice(-2), ['-n', '2'])
})

t.test('read: a bad cursor is AGT_JOURNAL_READ_FAILED with journalctl\'s words', async (t) => {
  const r = scriptedRunner(t).onRun(() => true, { code: 1, stderr: 'Failed to seek to cursor: Invalid argument\n' })
  const e = await new JournalctlJournal({ runner: r }).read({ unit: U, afterCursor: 'garbage' }).catch((x: unknown) => x) as OsPortError
  t.equal(e.code, 'AGT_JOURNAL_READ_FAILED')
  t.equal(e.stderr, 'Failed to seek to cursor: Invalid argument')
})

t.test('follow: yields entries as journalctl prints them; lazy; abort kills the child', async (t) => {
  const r = scriptedRunner(t).onSpawn((a) => a.includes('--follow'), (p) => { p.write(line('one') + line('two', { MESSAGE: [104, 105] })) })
  const ac = new AbortController()
  const it = new JournalctlJournal({ runner: r }).follow({ unit: U, afterCursor: 's=x;i=0', signal: ac.signal })
  t.equal(r.spawned.length, 0, 'nothing starts before the first next()')
  const got: string[] = []
  for await (const e of it) {
    got.push(e.message)
    if (got.length === 2) ac.abort()
  }
  t.same(got, ['one', 'hi'])
  const [p] = r.spawned
  t.ok(p !== undefined && !p.running, 'the child is gone')
  t.ok(r.calls[0]?.kind === 'spawn' && r.calls[0].args.includes('--after-cursor=s=x;i=0') && r.calls[0].args.includes('--no-tail'))
})

t.test('follow: a consumer that breaks out kills the child', async (t) => {
  const r = scriptedRunner(t).onSpawn(() => true, (p) => { p.write(line('one') + line('two')) })
  const got: string[] = []
  for await (const e of new JournalctlJournal({ runner: r }).follow({ unit: U, signal: new AbortController().signal })) {
    got.push(e.message)
    if (got.length === 1) break
  }
  t.same(got, ['one'])
  t.equal(r.running.length, 0)
  t.same(r.spawned[0]?.kills, ['SIGTERM'])
})

t.test('follow: abort while waiting for the next entry ends the iteration quietly', async (t) => {
  const r = scriptedRunner(t).onSpawn(() => true)
  const ac = new AbortController()
  const it = new JournalctlJournal({ runner: r }).follow({ unit: U, signal: ac.signal })[Symbol.asyncIterator]()
  const next = it.next()
  await until(() => r.spawned.length === 1, 'spawn')
  ac.abort()
  t.same(await next, { value: undefined, done: true })
  t.equal(r.running.length, 0)
})

t.test('follow: journalctl ending by itself is AGT_JOURNAL_FOLLOW_FAILED with its stderr', async (t) => {
  const r = scriptedRunner(t).onSpawn(() => true, (p) => {
    p.writeErr('Failed to seek to cursor: Invalid argument\n')
    setImmediate(() => { p.exit(1) })
  })
  const err = await (async () => {
    for await (const e of new JournalctlJournal({ runner: r }).follow({ unit: U, afterCursor: 'bad', signal: new AbortController().signal })) t.fail(`unexpected ${e.message}`)
  })().catch((e: unknown) => e) as OsPortError
  t.equal(err.code, 'AGT_JOURNAL_FOLLOW_FAILED')
  t.match(err.message, /ended by itself \(exit 1\): Failed to seek to cursor/)
})

t.test('follow: a journalctl that cannot start is AGT_JOURNAL_FOLLOW_FAILED', async (t) => {
  const r = scriptedRunner(t)
  const it = new JournalctlJournal({ runner: r }).follow({ unit: U, signal: new AbortController().signal })[Symbol.asyncIterator]()
  const e = await it.next().catch((x: unknown) => x) as OsPortError
  t.equal(e.code, 'AGT_JOURNAL_FOLLOW_FAILED')
})

t.test('follow: an already aborted signal starts nothing', async (t) => {
  // No spawn is scripted: a spawn would throw and fail the loop.
  const r = scriptedRunner(t)
  for await (const e of new JournalctlJournal({ runner: r }).follow({ unit: U, signal: AbortSignal.abort() })) t.fail(e.message)
  t.equal(r.spawned.length, 0)
})

t.test('follow: backpressure: a slow consumer leaves journalctl\'s output unread', async (t) => {
  let proc: FakeSpawnedProcess | undefined
  const r = scriptedRunner(t).onSpawn(() => true, (p) => { proc = p }, { highWaterMark: 256 })
  const ac = new AbortController()
  const it = new JournalctlJournal({ runner: r }).follow({ unit: U, signal: ac.signal })[Symbol.asyncIterator]()
  const first = it.next()
  await until(() => proc !== undefined, 'spawn')
  proc?.write(line('first'))
  t.equal((await first).value?.message, 'first')
  let accepted = 0
  while (proc?.write(line(`more ${accepted}`)) === true) accepted++
  t.ok(accepted < 5, `journalctl is told to wait after ${accepted} more lines`)
  t.equal((await it.next()).value?.message, 'more 0', 'the consumer resumes where it was')
  ac.abort()
  await it.return?.(undefined)
})

t.test('follow with a real child: break and abort leave no process; slow reader blocks the writer', async (t) => {
  const dir = t.testdir()
  // Stands in for journalctl: prints numbered entries as fast as the pipe takes them; ignores
  // its arguments.
  const script = join(dir, 'fake-journalctl')
  // A shell loop (blocking writes, like journalctl's C stdio), not node: node makes its stdout
  // pipe non-blocking and would fail with EAGAIN instead of blocking.
  writeFileSync(script, `#!/bin/sh
i=0
while :; do
  printf '{"__CURSOR":"c%d","__REALTIME_TIMESTAMP":"1","MESSAGE":"line %d ${'x'.repeat(200)}","_SYSTEMD_UNIT":"minkms.service"}\\n' $i $i
  i=$((i+1))
done
`)
  chmodSync(script, 0o755)
  const runner = new ChildProcessRunner()
  const journal = new JournalctlJournal({ runner, journalctl: script })
  const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }

  // Slow reader: after one entry, wait; the writer must stall at a bounded count.
  let pid = 0
  const spawn = runner.spawn.bind(runner)
  runner.spawn = (f, a, o) => { const p = spawn(f, a, o); pid = p.pid; return p }
  const ac = new AbortController()
  const it = journal.follow({ unit: U, signal: ac.signal })[Symbol.asyncIterator]()
  t.equal((await it.next()).value?.message.startsWith('line 0 '), true)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const r1 = await bytesWritten(pid)
  await new Promise((resolve) => setTimeout(resolve, 200))
  const r2 = await bytesWritten(pid)
  t.ok(r1 > 0 && r1 === r2, `the writer is blocked (${r1} then ${r2} bytes written)`)
  t.ok(r1 < 2_000_000, 'after a bounded amount (pipe + stream buffers)')
  ac.abort()
  await it.return?.(undefined)
  t.notOk(alive(pid), 'aborted: the child is gone')

  // Break out of the loop.
  let n = 0
  for await (const e of journal.follow({ unit: U, signal: new AbortController().signal })) {
    if (e.message !== `line ${n} ${'x'.repeat(200)}`) break
    if (++n === 1000) break
  }
  t.equal(n, 1000, 'read 1000 entries in order')
  t.notOk(alive(pid), 'break: the child is gone')
})

/** Bytes the process has written so far (/proc/PID/io wchar). */
async function bytesWritten (pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises')
  const io = await readFile(`/proc/${pid}/io`, 'utf8').catch(() => '')
  return Number(/^wchar: (\d+)/m.exec(io)?.[1] ?? -1)
}

t.test('entries carry the parsed fields', async (t) => {
  const r = scriptedRunner(t).onRun(() => true, { stdout: line('Started minkms.service - MinKMS.', { _SYSTEMD_UNIT: 'init.scope', UNIT: U, INVOCATION_ID: 'bb', _SYSTEMD_INVOCATION_ID: undefined, _PID: '1' }) })
  const [e] = await new JournalctlJournal({ runner: r }).read({ unit: U }) as [JournalEntry]
  t.equal(e.origin, 'manager')
  t.equal(e.invocationId, 'bb')
})
