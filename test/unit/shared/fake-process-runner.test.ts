import t from 'tap'
import { once } from 'node:events'
import { argvMatches, FailingProcessRunner, FakeProcessRunner } from '../../../shared/fake-process-runner.js'
import { ProcessError, type ProcessRunner } from '../../../shared/process-runner.js'
import { scriptedRunner } from '../../helpers/scripted-runner.js'

t.test('argvMatches: patterns by element (string or RegExp, same length) or a predicate', async (t) => {
  t.ok(argvMatches(['systemctl', 'show', /^minkms/], ['systemctl', 'show', 'minkms.service']))
  t.notOk(argvMatches(['systemctl', 'show'], ['systemctl', 'show', 'minkms.service']), 'length matters')
  t.notOk(argvMatches(['systemctl', 'restart'], ['systemctl', 'show']))
  t.ok(argvMatches((a) => a.includes('--follow'), ['journalctl', '--follow']))
})

t.test('run: answers by argv, records calls, honours okCodes like the real runner', async (t) => {
  const r = new FakeProcessRunner()
    .onRun(['systemctl', 'show', 'x'], { stdout: 'A=1\n' })
    .onRun(['systemctl', 'restart', 'x'], { code: 5, stderr: 'Unit x.service not found.\n' })
  t.same(await r.run('systemctl', ['show', 'x'], { timeoutMs: 1000 }), { stdout: 'A=1\n', stderr: '', code: 0 })
  const err = await r.run('systemctl', ['restart', 'x'], { timeoutMs: 1000 }).catch((e: unknown) => e) as ProcessError
  t.type(err, ProcessError)
  t.equal(err.exitCode, 5)
  t.equal(err.stderrTail, 'Unit x.service not found.')
  t.same((await r.run('systemctl', ['restart', 'x'], { timeoutMs: 1000, okCodes: [0, 5] })).code, 5)
  t.same(r.runs, [['systemctl', 'show', 'x'], ['systemctl', 'restart', 'x'], ['systemctl', 'restart', 'x']])
  t.equal(r.calls[0]?.kind === 'run' ? r.calls[0].opts.timeoutMs : 0, 1000, 'options are recorded')
})

t.test('run: an unscripted command rejects, `times` uses a rule up, answers may be functions or errors', async (t) => {
  const r = new FakeProcessRunner()
    .onRun(['a'], { stdout: 'first' }, { times: 1 })
    .onRun(['a'], (call) => ({ stdout: `again ${call.args.length}` }))
    .onRun(['b'], new Error('boom'))
    .onRun(['c'], { timedOut: true })
  t.equal((await r.run('a', [], { timeoutMs: 1 })).stdout, 'first')
  t.equal((await r.run('a', [], { timeoutMs: 1 })).stdout, 'again 0')
  await t.rejects(r.run('b', [], { timeoutMs: 1 }), /boom/)
  const to = await r.run('c', [], { timeoutMs: 1 }).catch((e: unknown) => e) as ProcessError
  t.equal(to.timedOut, true)
  await t.rejects(r.run('zzz', ['q'], { timeoutMs: 1 }), /zzz q .*no scripted answer/)
  await t.rejects(r.run('a', [], { timeoutMs: 1, signal: AbortSignal.abort() }))
})

t.test('spawn: a controllable process; kill ends its stdout and settles exited', async (t) => {
  const r = new FakeProcessRunner().onSpawn(['journalctl', '--follow'], (p) => { p.write('hello\n') })
  const p = r.spawn('journalctl', ['--follow'])
  t.equal(r.running.length, 1)
  const chunks: string[] = []
  p.stdout.on('data', (d: Buffer) => chunks.push(d.toString()))
  p.kill()
  await once(p.stdout, 'end')
  t.same(await p.exited, { code: null, signal: 'SIGTERM' })
  t.equal(chunks.join(''), 'hello\n')
  t.same(p.kills, ['SIGTERM'])
  t.equal(r.running.length, 0)
  t.throws(() => r.spawn('other', []), /no scripted spawn/)
})

t.test('spawn: exit(code) and an abort signal', async (t) => {
  const r = new FakeProcessRunner().onSpawn(() => true)
  const a = r.spawn('x', [])
  a.exit(3)
  t.same(await a.exited, { code: 3, signal: null })
  const ac = new AbortController()
  const b = r.spawn('y', [], { signal: ac.signal })
  ac.abort()
  t.same(await b.exited, { code: null, signal: 'SIGTERM' })
})

t.test('pending scripts: a rule with times is pending until used up, one without until used once', async (t) => {
  const r = new FakeProcessRunner()
    .onRun(['systemctl', 'show', 'x'], { stdout: '' }, { times: 2 })
    .onRun(['systemctl', 'restart', 'x'], {})
    .onRun(['systemctl', 'stop', 'x'], {})
    .onSpawn((a) => a.includes('--follow'))
  await r.run('systemctl', ['show', 'x'], { timeoutMs: 1 })
  await r.run('systemctl', ['restart', 'x'], { timeoutMs: 1 })
  t.same(r.pendingScripts().map((p) => [p.kind, p.used, p.left]), [['run', 1, 1], ['run', 0, Infinity], ['spawn', 0, Infinity]])
  t.throws(() => { r.assertNoPendingScripts() }, /3 scripted answer\(s\) never used:\n {2}onRun \["systemctl", "show", "x"\]: used 1, 1 more expected\n {2}onRun \["systemctl", "stop", "x"\]: used 0, never used\n {2}onSpawn <predicate/)
  await r.run('systemctl', ['show', 'x'], { timeoutMs: 1 })
  await r.run('systemctl', ['stop', 'x'], { timeoutMs: 1 })
  r.spawn('journalctl', ['--follow']).kill()
  t.same(r.pendingScripts(), [])
  t.doesNotThrow(() => { r.assertNoPendingScripts() }, 'every script used')
})

t.test('scriptedRunner: an unused script fails the test at teardown', async (t) => {
  const teardowns: Array<() => unknown> = []
  const r = scriptedRunner({ teardown: (fn) => { teardowns.push(fn) } }).onRun(['never'], {})
  t.equal(teardowns.length, 1, 'the check is registered')
  t.throws(() => teardowns[0]?.(), /onRun \["never"\]: used 0, never used/)
  await r.run('never', [], { timeoutMs: 1 })
  t.doesNotThrow(() => teardowns[0]?.())
})

t.test('FailingProcessRunner: nothing starts', async (t) => {
  const r: ProcessRunner = new FailingProcessRunner()
  await t.rejects(r.run('systemctl', ['show'], { timeoutMs: 1 }), ProcessError)
  t.throws(() => r.spawn('journalctl', []), ProcessError)
})
