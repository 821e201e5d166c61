import t from 'tap'
import { once } from 'node:events'
import { ChildProcessRunner, ProcessError } from '../../../shared/process-runner.js'

const runner = new ChildProcessRunner()
const node = process.execPath

t.test('run returns stdout and exit code 0', async (t) => {
  const r = await runner.run(node, ['-e', 'process.stdout.write("hi")'], { timeoutMs: 10_000 })
  t.equal(r.stdout, 'hi')
  t.equal(r.code, 0)
})

t.test('input is written to stdin', async (t) => {
  const r = await runner.run(node, ['-e', 'process.stdin.pipe(process.stdout)'], { timeoutMs: 10_000, input: 'abc' })
  t.equal(r.stdout, 'abc')
})

t.test('a non-zero exit rejects with a ProcessError carrying code and stderr tail', async (t) => {
  const err = await runner.run(node, ['-e', 'console.error("boom"); process.exit(3)'], { timeoutMs: 10_000 }).catch((e: unknown) => e)
  t.type(err, ProcessError)
  const pe = err as ProcessError
  t.equal(pe.exitCode, 3)
  t.equal(pe.stderrTail, 'boom')
  t.equal(pe.timedOut, false)
  t.match(pe.message, /exited with 3: boom/)
})

t.test('okCodes accepts listed exit codes', async (t) => {
  const r = await runner.run(node, ['-e', 'process.exit(3)'], { timeoutMs: 10_000, okCodes: [0, 3] })
  t.equal(r.code, 3)
})

t.test('the timeout kills the process', async (t) => {
  const err = await runner.run(node, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 200 }).catch((e: unknown) => e) as ProcessError
  t.type(err, ProcessError)
  t.equal(err.timedOut, true)
  t.match(err.message, /timed out/)
})

t.test('a missing program is a ProcessError', async (t) => {
  const err = await runner.run('/nonexistent/program', [], { timeoutMs: 1000 }).catch((e: unknown) => e)
  t.type(err, ProcessError)
})

t.test('spawn streams stdout and reports the exit', async (t) => {
  const p = runner.spawn(node, ['-e', 'console.log("line1"); process.exit(4)'])
  t.ok(p.pid > 0)
  const chunks: string[] = []
  p.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()))
  const [exit] = await Promise.all([p.exited, once(p.stdout!, 'end')])
  t.same(exit, { code: 4, signal: null })
  t.equal(chunks.join(''), 'line1\n')
})

t.test('spawn: kill ends a long-running child', async (t) => {
  const p = runner.spawn(node, ['-e', 'setInterval(() => {}, 1000)'])
  p.kill('SIGTERM')
  const exit = await p.exited
  t.equal(exit.signal, 'SIGTERM')
})
