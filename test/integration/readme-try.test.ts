// The README's "Try keyroll-agent on your machine" block, run as a newcomer pastes it: extracted
// from README.md as it is, run by bash at the top of the checkout with `-e` (every line but the
// last must succeed), against the built tree (npm test builds before this tier).
import t from 'tap'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { processRunner } from '../../shared/process-runner.js'
import { repoRoot } from '../lab/repo.js'

const root = repoRoot()
t.setTimeout(180_000)

/** The first ```sh block after the "Try keyroll-agent" heading. */
function tryBlock (readme: string): string {
  const at = readme.indexOf('## Try keyroll-agent on your machine')
  if (at < 0) throw new Error('README.md has no "Try keyroll-agent on your machine" section')
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))
  if (m?.[1] === undefined) throw new Error('the "Try keyroll-agent" section has no ```sh block')
  return m[1]
}

t.test('the README block runs with no edits: plan, apply --diff, drift seen by status', async (t) => {
  t.ok(existsSync(join(root, 'dist/agent/main.js')), 'the tree is built (npm ci runs the build)')
  const block = tryBlock(await readFile(join(root, 'README.md'), 'utf8'))
  const tmp = t.testdir()
  const r = await processRunner.run('bash', ['-e', '-c', block], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmp, TMPDIR: tmp },
    timeoutMs: 150_000,
    okCodes: [0, 1]
  })
  const all = r.stdout + r.stderr
  t.match(r.stdout, /^changed: \[try\] revision 1 \(would not restart\)$/m, 'plan')
  t.match(r.stdout, /^changed: \[try\] revision 1 \(no restart\)$/m, 'apply')
  t.match(r.stdout, /^\+ {8}key: \*\*\*\S+$/m, 'the diff shows the key masked')
  t.match(r.stdout, /^\[try\] minkms\.service .*; revision 1 \(desired 1\); DRIFT in \S+\/minkms\.yaml$/m, 'status sees the hand edit')
  t.equal(r.code, 1, 'status exits 1: a drifted file')
  t.notMatch(all, /k1:[A-Za-z0-9_-]{43}/, 'the API key never printed in clear')
  t.notMatch(all, /^error:/m, 'no command failed')
})
