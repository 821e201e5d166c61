// Findings 2, 3 and 8 of the hostile-input review, over real HTTP on loopback with the real apply
// engine and real files: a revision history that blocks every change is cleared by
// `keyroll-agent reset-revisions`; a rollback follows the restart policy its change was applied
// with unless the request overrides it; a secret landing in a world-readable file is warned about
// and a change can set the file's mode.
import t from 'tap'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { request } from 'undici'
import { runCli } from '../../agent/cli.js'
import { API_KEY, hsmSpec as hsmChange } from '../helpers/applier-fixture.js'
import { startRealAgent, type RealAgent } from '../helpers/real-agent.js'

async function call (a: RealAgent, path: string, body: unknown): Promise<{ status: number, text: string }> {
  const res = await request(`${a.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.statusCode, text: await res.body.text() }
}

function restarts (a: RealAgent): number {
  return a.service.calls.filter(c => c === 'restart').length
}

t.test('finding 3: rollback honours restart: never, and a request can override it', async t => {
  const a = await startRealAgent(t)
  t.equal((await call(a, '/v1/apply', hsmChange(1, { restart: 'never' }))).status, 200)
  t.equal((await call(a, '/v1/apply', hsmChange(2, { restart: 'never', unsetHsmKey: true }))).status, 200)
  t.equal(restarts(a), 0, 'the applies did not restart')
  const back = await call(a, '/v1/rollback', {})
  t.equal(back.status, 200)
  t.match(back.text, /"restarted":false/, 'rolled back without a restart')
  t.equal(restarts(a), 0, 'minkms was not restarted by the rollback')

  t.equal((await call(a, '/v1/apply', hsmChange(3, { restart: 'never', unsetHsmKey: true }))).status, 200)
  const forced = await call(a, '/v1/rollback', { restart: 'on-change' })
  t.equal(forced.status, 200)
  t.match(forced.text, /"restarted":true/)
  t.equal(restarts(a), 1, 'the override restarted the unit once')
})

t.test('finding 8: a secret in a world-readable file is warned about; a change may set the mode', async t => {
  const a = await startRealAgent(t, { modes: { config: 0o644 } })
  const plan = await call(a, '/v1/plan', hsmChange(1))
  t.equal(plan.status, 200)
  t.match(plan.text, /holds a secret and would be readable by every user \(mode 0644\)/)
  t.notOk(plan.text.includes(API_KEY), 'the warning does not show the key')

  const withMode = hsmChange(1) as { files: { config: Record<string, unknown> } }
  withMode.files.config.mode = '0600'
  const plan2 = await call(a, '/v1/plan', withMode)
  t.notMatch(plan2.text, /readable by every user/, 'no warning once the change sets 0600')
  t.equal((await call(a, '/v1/apply', withMode)).status, 200)
  t.equal((await stat(a.files.config)).mode & 0o777, 0o600, 'the file now has mode 0600')
  t.equal((await stat(a.files.env)).mode & 0o777, 0o640, 'a file the change does not name keeps its mode')
})

t.test('finding 2: reset-revisions clears a history that blocks every change, and nothing else', async t => {
  const a = await startRealAgent(t)
  const top = Number.MAX_SAFE_INTEGER
  t.equal((await call(a, '/v1/apply', hsmChange(top, { restart: 'never' }))).status, 200, 'the highest revision is accepted')
  const stale = await call(a, '/v1/apply', hsmChange(5, { restart: 'never' }))
  t.equal(stale.status, 409, 'every realistic revision is now stale')
  t.match(stale.text, /AGT_STALE_REVISION/)

  const config = join(a.dir, 'agent.yaml')
  await writeFile(config, `node: node1\nstateDir: ${join(a.dir, 'state')}\ndevInsecureHttp: true\nlisten: { host: 127.0.0.1, port: 0 }\n`)
  const out: string[] = []
  const err: string[] = []
  const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } }
  t.equal(await runCli(['reset-revisions', '--config', config], io), 2, 'refused without --yes')
  const { readFile } = await import('node:fs/promises')
  const files = await readFile(a.files.config, 'utf8')
  t.equal(await runCli(['reset-revisions', '--yes', '--config', config], io), 0, err.join(''))
  t.match(out.join(''), new RegExp(`forgot applied revision ${top}`))
  t.equal(await readFile(a.files.config, 'utf8'), files, 'the managed file is untouched')
  t.equal((await call(a, '/v1/apply', hsmChange(5, { restart: 'never' }))).status, 200, 'revision 5 is accepted again')
  t.equal((await a.state.readApplied())?.revision, 5)
})
