// Coverage is recorded in tap's test processes only (test/helpers/coverage-own-process-only.mjs,
// loaded through package.json's tap "node-arg"): a Node child a test starts must see tap's
// coverage switch off, whatever env the test hands it, or it reports the same source files in
// another compiled form and the unit tier's report changes from run to run.
import t from 'tap'
import { processRunner } from '../../shared/process-runner.js'

const PRINT = 'process.stdout.write(String(process.env._TAPJS_PROCESSINFO_COVERAGE_))'
// processinfo keeps its state on this global symbol in every process that loads it.
const PROCESSINFO = "Symbol.for('@tapjs/processinfo.ProcessInfoNodeData') in globalThis"

t.test('a child with the inherited environment does not record coverage', async (t) => {
  t.equal((await processRunner.run(process.execPath, ['-e', PRINT], { timeoutMs: 30_000 })).stdout, '0')
})

t.test('a child with an environment of its own does not record coverage either', async (t) => {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
  t.equal((await processRunner.run(process.execPath, ['-e', PRINT], { timeoutMs: 30_000, env })).stdout, '0')
})

// processinfo's import runs module hooks on another thread: in a child that loads many modules it
// doubled the CPU time, for a record nothing reads. The helper takes it out of the child's NODE_OPTIONS.
t.test('a child does not load processinfo, and keeps the rest of its NODE_OPTIONS', async (t) => {
  t.ok(Symbol.for('@tapjs/processinfo.ProcessInfoNodeData') in globalThis, 'this test process runs under processinfo (so the check below can fail)')
  const print = `process.stdout.write(JSON.stringify([${PROCESSINFO}, process.env.NODE_OPTIONS ?? '']))`
  const child = async (env?: NodeJS.ProcessEnv): Promise<[boolean, string]> => JSON.parse((await processRunner.run(process.execPath, ['-e', print], { timeoutMs: 30_000, ...(env === undefined ? {} : { env }) })).stdout) as [boolean, string]
  t.same(await child(), [false, ''], 'inherited environment: no processinfo, no NODE_OPTIONS')
  const [loaded, options] = await child({ PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_OPTIONS: '--max-old-space-size=200' })
  t.equal(loaded, false, 'NODE_OPTIONS of its own: no processinfo')
  t.match(options, /^"?--max-old-space-size=200"?$/, 'and its own entry kept')
})
