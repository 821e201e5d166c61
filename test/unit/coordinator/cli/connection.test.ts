// Where the CLI finds the coordinator and its token, and what it says when it cannot: a missing
// setting or file is bad input (exit 2); a coordinator that cannot be reached or is not trusted
// exits 1 and names the setting to check. The token is never quoted.
import t from 'tap'
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { initPki } from '../../../../coordinator/pki/site-pki.js'
import { subjectNames } from '../../../../coordinator/pki/names.js'
import { caPaths } from '../../../../coordinator/pki/pki-layout.js'
import { cli, standIn, TOKEN } from './stand-in.js'

t.test('missing or unusable settings exit 2 before any request', async t => {
  const s = await standIn(t)
  s.app.get('/v1/clusters', async () => [])
  await s.start()
  const cases: Array<[Record<string, string>, string[], RegExp]> = [
    [{ ...s.env, KEYROLL_URL: '' }, [], /CRD_CLI_USAGE: no coordinator URL: set KEYROLL_URL/],
    [s.env, ['--url', 'http://127.0.0.1:1'], /--url must be an https:\/\/ URL/],
    [s.env, ['--url', 'not a url'], /--url is not a URL/],
    [{ ...s.env, KEYROLL_TOKEN_FILE: '' }, [], /no token: set KEYROLL_TOKEN_FILE or pass --token-file/],
    [s.env, ['--token-file', join(s.dir, 'absent')], /CRD_CLI_FILE_UNREADABLE: cannot read the token file \(--token-file\) .*absent: no such file/],
    [s.env, ['--ca', join(s.dir, 'absent.crt')], /cannot read the CA file \(--ca\)/]
  ]
  for (const [env, flags, re] of cases) {
    const r = await cli(['clusters', ...flags], { env })
    t.equal(r.code, 2, re.source)
    t.match(r.stderr, re)
  }
  const twoLines = join(s.dir, 'two')
  await writeFile(twoLines, 'a b\n', { mode: 0o600 })
  t.match((await cli(['clusters', '--token-file', twoLines], { env: s.env })).stderr, /does not hold one token/)
  t.equal(s.calls.length, 0)

  // Flags win over the environment; a readable-by-others token file works, with a warning.
  const loose = join(s.dir, 'loose')
  await writeFile(loose, TOKEN)
  await chmod(loose, 0o644)
  const r = await cli(['clusters', '--token-file', loose], { env: { ...s.env, KEYROLL_URL: 'https://127.0.0.1:1' }, ...{} })
  t.equal(r.code, 1, 'KEYROLL_URL points nowhere')
  const ok = await cli(['clusters', '--token-file', loose, '--url', s.env.KEYROLL_URL ?? ''], { env: { ...s.env, KEYROLL_URL: 'https://127.0.0.1:1' } })
  t.equal(ok.code, 0, '--url wins')
  t.match(ok.stderr, /warning: the token file .*loose can be read by other users \(mode 0644\)/)
  t.notMatch(ok.stderr + r.stderr, new RegExp(TOKEN))
})

t.test('unreachable or untrusted coordinators exit 1 and say what to check', async t => {
  const s = await standIn(t)
  s.app.get('/v1/clusters', async () => [])
  await s.start()
  const other = join(s.dir, 'other-pki')
  await initPki({ dir: other, coordinatorName: 'x', coordinatorNames: subjectNames([], 'test'), agents: [] })
  const untrusted = await cli(['clusters', '--ca', caPaths(other).crt], { env: s.env })
  t.equal(untrusted.code, 1)
  t.match(untrusted.stderr, /CRD_CLI_UNREACHABLE: .*check --ca: it must be the CA that signed the coordinator's certificate/)

  const wrongName = await cli(['clusters', '--url', (s.env.KEYROLL_URL ?? '').replace('127.0.0.1', 'localhost')], { env: s.env })
  t.equal(wrongName.code, 1)
  t.match(wrongName.stderr, /ERR_TLS_CERT_ALTNAME_INVALID|certificate/, 'localhost is not one of its names')

  await s.app.close()
  const refused = await cli(['clusters'], { env: s.env })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /connection refused; check KEYROLL_URL \(the coordinator's address and port\) and that keyroll-coordinator is running there/)
  for (const r of [untrusted, wrongName, refused]) t.notMatch(r.stdout + r.stderr, new RegExp(TOKEN))
})

t.test('--help exits 0; an unknown command or a missing argument exits 2', async t => {
  t.equal((await cli(['--help'], {})).code, 0)
  t.equal((await cli(['nope'], {})).code, 2)
  t.equal((await cli(['rollout', 'status'], {})).code, 2)
  t.equal((await cli(['plan', '--cluster', 'x'], {})).code, 2)
})
