// `keyroll-coordinator serve` refusals before anything starts: a bad config or an unreadable TLS
// file exits 2 naming the problem (systemd does not restart it), parts that fail exit 1.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCoordinator } from '../../../coordinator/main.js'

const AGENTS = 'agents: { ca: /etc/keyroll/a.pem, cert: /etc/keyroll/c.pem, key: /etc/keyroll/c.key }\n'

async function run (args: string[], createParts: () => Promise<never> = async () => { throw new Error('parts must not be built') }): Promise<{ code: number, err: string, log: string }> {
  let err = ''
  const log: string[] = []
  const code = await runCoordinator(args, { stdout: { write: () => true }, stderr: { write: (s: string) => { err += s } } }, { createParts, env: {}, logDestination: { write: (l: string) => log.push(l) } })
  return { code, err, log: log.join('') }
}

t.test('a bad config exits 2 and names the field', async t => {
  const dir = t.testdir({ 'c.yaml': `${AGENTS}clusters: []\n` })
  const r = await run(['serve', '--config', join(dir, 'c.yaml')])
  t.equal(r.code, 2)
  t.match(r.err, /SHR_DAEMON_CONFIG_INVALID.*\n.*tls: missing/)
  const missing = await run(['serve', '--config', join(dir, 'nope.yaml')])
  t.equal(missing.code, 2)
  t.match(missing.err, /SHR_DAEMON_CONFIG_UNREADABLE/)
})

t.test('an unreadable TLS file exits 2 with CRD_TLS_UNREADABLE', async t => {
  const dir = t.testdir({})
  await writeFile(join(dir, 'c.yaml'), `${AGENTS}clusters: []\ntls: { cert: ${join(dir, 'no.pem')}, key: ${join(dir, 'no.key')}, clientCa: ${join(dir, 'ca.pem')} }\n`)
  const r = await run(['serve', '--config', join(dir, 'c.yaml')])
  t.equal(r.code, 2)
  t.match(r.err, /CRD_TLS_UNREADABLE: tls\.cert: cannot read .*no\.pem \(ENOENT\)/)
})

t.test('parts that fail to start exit 1, logged', async t => {
  const dir = t.testdir({ 'c.yaml': `${AGENTS}clusters: []\ndevInsecureHttp: true\nlisten: { host: 127.0.0.1, port: 0 }\n` })
  const r = await run(['serve', '--config', join(dir, 'c.yaml')], async () => { throw new Error('store locked') })
  t.equal(r.code, 1)
  t.match(r.log, /"level":60.*store locked/)
})

t.test('usage errors exit 2; --help exits 0', async t => {
  t.equal((await run(['serve', '--bogus'])).code, 2)
  t.equal((await run(['frobnicate'])).code, 2)
  t.equal((await run(['--help'])).code, 0)
})
