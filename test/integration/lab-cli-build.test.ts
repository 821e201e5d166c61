// `npm run lab -- …` builds only for `up` and only when a source is newer than dist/; `status`
// and `down` never run tsc. Run against a scratch tree holding the real wrapper, a source newer
// than its compiled file, a stand-in tsc that records each run, and a stand-in lab CLI.
import t from 'tap'
import { copyFile, mkdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { processRunner } from '../../shared/process-runner.js'
import { repoRoot } from '../lab/repo.js'

const repo = repoRoot()

async function scratchTree (root: string): Promise<{ lab: (...argv: string[]) => Promise<{ out: string, err: string }>, tscRuns: () => Promise<number> }> {
  await mkdir(join(root, 'test/lab'), { recursive: true })
  for (const f of ['run-lab-cli.mjs', 'lab-build.mjs']) await copyFile(join(repo, 'test/lab', f), join(root, 'test/lab', f))
  await writeFile(join(root, 'tsconfig.json'), '{}\n')
  await mkdir(join(root, 'agent'), { recursive: true })
  await mkdir(join(root, 'dist/agent'), { recursive: true })
  await mkdir(join(root, 'dist/test/lab'), { recursive: true })
  await writeFile(join(root, 'dist/agent/a.js'), '')
  await writeFile(join(root, 'agent/a.ts'), '')
  const old = new Date(Date.now() - 3_600_000)
  await utimes(join(root, 'tsconfig.json'), old, old)
  await utimes(join(root, 'dist/agent/a.js'), old, old)
  await writeFile(join(root, 'dist/test/lab/lab-cli.js'), 'export async function main (argv) { console.log(\'lab-cli \' + argv.join(\' \')); return 0 }\n')
  await mkdir(join(root, 'node_modules/typescript/bin'), { recursive: true })
  // The stand-in compiler: records the run and "compiles" (a fresh dist/agent/a.js).
  await writeFile(join(root, 'node_modules/typescript/package.json'), '{ "type": "commonjs" }\n')
  await writeFile(join(root, 'node_modules/typescript/bin/tsc'), `const { appendFileSync, writeFileSync } = require('node:fs')
appendFileSync(${JSON.stringify(join(root, 'tsc-runs'))}, 'run\\n')
writeFileSync(${JSON.stringify(join(root, 'dist/agent/a.js'))}, '')
`)
  await writeFile(join(root, 'package.json'), '{ "type": "module" }\n')
  return {
    lab: async (...argv) => {
      const r = await processRunner.run(process.execPath, [join(root, 'test/lab/run-lab-cli.mjs'), ...argv], { cwd: root, timeoutMs: 30_000, env: { ...process.env, NODE_OPTIONS: '' } })
      return { out: r.stdout, err: r.stderr }
    },
    tscRuns: async () => (await readFile(join(root, 'tsc-runs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length
  }
}

t.test('status and down never build, even with a source newer than dist/', async (t) => {
  const tree = await scratchTree(t.testdir())
  for (const argv of [['status'], ['status', '--json'], ['down', '--all'], ['down', '--id', '3'], ['up', '--help']]) {
    const r = await tree.lab(...argv)
    t.equal(r.out, `lab-cli ${argv.join(' ')}\n`, `${argv.join(' ')} ran the lab CLI`)
    t.notMatch(r.err, /building/, `${argv.join(' ')} did not build`)
  }
  t.equal(await tree.tscRuns(), 0, 'tsc never ran')
})

t.test('up builds when a source is newer than dist/, says so, and not again once built', async (t) => {
  const tree = await scratchTree(t.testdir())
  const first = await tree.lab('up', '--nodes', '1')
  t.match(first.err, /^lab: building… \(agent\/a\.ts is newer than dist\/\)$/m)
  t.equal(first.out, 'lab-cli up --nodes 1\n')
  t.equal(await tree.tscRuns(), 1)
  const second = await tree.lab('up')
  t.notMatch(second.err, /building/)
  t.equal(await tree.tscRuns(), 1, 'dist/ is current: no second build')
})
