// Coverage is recorded in tap's test processes only (test/helpers/coverage-own-process-only.mjs,
// loaded through package.json's tap "node-arg"): a Node child a test starts must see tap's
// coverage switch off, whatever env the test hands it, or it reports the same source files in
// another compiled form and the unit tier's report changes from run to run.
import t from 'tap'
import { processRunner } from '../../shared/process-runner.js'

const PRINT = 'process.stdout.write(String(process.env._TAPJS_PROCESSINFO_COVERAGE_))'

t.test('a child with the inherited environment does not record coverage', async (t) => {
  t.equal((await processRunner.run(process.execPath, ['-e', PRINT], { timeoutMs: 30_000 })).stdout, '0')
})

t.test('a child with an environment of its own does not record coverage either', async (t) => {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
  t.equal((await processRunner.run(process.execPath, ['-e', PRINT], { timeoutMs: 30_000, env })).stdout, '0')
})
