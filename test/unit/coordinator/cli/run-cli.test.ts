// The command line itself: --version, the alias `hsm show`, and help texts that say what a
// command does (not just its name).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { repoRoot } from '../../../lab/repo.js'
import { cli } from './stand-in.js'

t.test('--version prints package.json\'s version and exits 0', async (t) => {
  const pkg = JSON.parse(await readFile(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
  const r = await cli(['--version'], {})
  t.equal(r.code, 0)
  t.equal(r.stdout.trim(), pkg.version)
})

t.test('hsm show is hsm status; rollout steering commands explain themselves', async (t) => {
  const show = await cli(['hsm', 'show', '--help'], {})
  t.equal(show.code, 0)
  t.match(show.stdout, /Usage: keyroll hsm status\|show/)
  const help = await cli(['rollout', '--help'], {})
  t.match(help.stdout, /promote \[options\] <id>\s+go on with the other nodes after a canary/)
  t.match(help.stdout, /rollback \[options\] <id>\s+roll every node the rollout changed back/)
})
