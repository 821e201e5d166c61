import t, { type Test } from 'tap'
import { join } from 'node:path'
import { CONFIG_FILE_ENV, isLoopbackHost, loadAgentConfig, type AgentConfig } from '../../../agent/config.js'

const TLS = 'tls:\n  cert: /etc/keyroll/agent.pem\n  key: /etc/keyroll/agent.key\n  clientCa: /etc/keyroll/clients-ca.pem\n'

async function load (t: Test, yaml: string, more: Partial<Parameters<typeof loadAgentConfig>[0]> = {}): Promise<AgentConfig> {
  const dir = t.testdir({ 'agent.yaml': yaml })
  return await loadAgentConfig({ file: join(dir, 'agent.yaml'), env: {}, ...more })
}

async function problems (t: Test, yaml: string, more: Partial<Parameters<typeof loadAgentConfig>[0]> = {}): Promise<string> {
  try {
    await load(t, yaml, more)
  } catch (err) {
    t.equal((err as { code?: string }).code, 'SHR_DAEMON_CONFIG_INVALID')
    return (err as Error).message
  }
  t.fail('config was accepted')
  return ''
}

t.test('defaults fill everything the file leaves out', async t => {
  const c = await load(t, `node: kms1\n${TLS}`)
  t.equal(c.node, 'kms1')
  t.equal(c.unit, 'minkms.service')
  t.same(c.files, { config: { path: '/etc/minkms/config.yaml', kind: 'minkms-config' }, env: { path: '/etc/default/minkms', kind: 'env' } })
  t.equal(c.stateDir, '/var/lib/keyroll-agent')
  t.same(c.listen, { host: '0.0.0.0', port: 7400 })
  t.same(c.verify, { deadline: '60s', stableFor: '5s' })
  t.equal(c.backups.keep, 10)
  t.equal(c.log.level, 'info')
  t.equal(c.minkms.endpoint, 'localhost:7373')
  t.equal(c.coordinator, undefined)
})

t.test('the result is deep-frozen', async t => {
  const c = await load(t, TLS)
  t.ok(Object.isFrozen(c))
  t.ok(Object.isFrozen(c.files.config))
  t.throws(() => { (c.listen as { port: number }).port = 1 }, TypeError)
})

t.test('layers: defaults < file < environment < flags', async t => {
  const yaml = `${TLS}listen:\n  port: 7401\nlog:\n  level: debug\n`
  t.equal((await load(t, yaml)).listen.port, 7401, 'file beats default')
  const env = { KEYROLL_AGENT_LISTEN_PORT: '7402', KEYROLL_AGENT_BACKUPS_KEEP: '3', KEYROLL_AGENT_STATE_DIR: '/srv/keyroll' }
  const fromEnv = await load(t, yaml, { env })
  t.equal(fromEnv.listen.port, 7402, 'env beats file')
  t.equal(fromEnv.backups.keep, 3)
  t.equal(fromEnv.stateDir, '/srv/keyroll', 'camelCase keys map to SNAKE_CASE variables')
  t.equal(fromEnv.log.level, 'debug', 'untouched file values stay')
  const fromFlags = await load(t, yaml, { env, flags: [{ path: ['listen', 'port'], value: '7403', source: '--listen-port' }] })
  t.equal(fromFlags.listen.port, 7403, 'flags beat env')
})

t.test('KEYROLL_AGENT_CONFIG names the file when --config does not', async t => {
  const dir = t.testdir({ 'a.yaml': `node: from-env-file\n${TLS}` })
  const c = await loadAgentConfig({ env: { [CONFIG_FILE_ENV]: join(dir, 'a.yaml') } })
  t.equal(c.node, 'from-env-file')
})

t.test('env booleans: devInsecureHttp on a loopback host', async t => {
  const c = await load(t, 'listen:\n  host: 127.0.0.1\n', { env: { KEYROLL_AGENT_DEV_INSECURE_HTTP: 'true' } })
  t.equal(c.devInsecureHttp, true)
  t.equal(c.tls, undefined)
})

t.test('devInsecureHttp is refused on a non-loopback address, naming the fix', async t => {
  const msg = await problems(t, 'devInsecureHttp: true\n')
  t.match(msg, /devInsecureHttp: plain HTTP is allowed only on a loopback address .* listen\.host is 0\.0\.0\.0; set listen\.host to 127\.0\.0\.1/)
  t.match(await problems(t, 'devInsecureHttp: true\nlisten:\n  host: 10.0.0.5\n'), /listen\.host is 10\.0\.0\.5/)
  t.match(await problems(t, `devInsecureHttp: true\nlisten:\n  host: 127.0.0.1\n${TLS}`), /devInsecureHttp: cannot be combined with tls/)
})

t.test('neither tls nor devInsecureHttp: says what to set', async t => {
  t.match(await problems(t, 'node: n\n'), /tls: missing; set tls\.cert, tls\.key and tls\.clientCa/)
})

t.test('schema problems name the field, the expectation and the file line', async t => {
  const msg = await problems(t, `${TLS}listen:\n  port: 70000\nfiles:\n  config:\n    path: etc/minkms/config.yaml\nbogus: 1\n`)
  t.match(msg, /^invalid agent config \(.*agent\.yaml\):/)
  t.match(msg, /listen\.port: must be a TCP port, 0-65535 \(line 6, column 3\)/)
  t.match(msg, /files\.config\.path: must be an absolute path: the minkms config file \(line 9, column 5\)/)
  t.match(msg, /bogus: unknown field; allowed: node, unit, files/)
})

t.test('a bad value from the environment names the variable', async t => {
  const msg = await problems(t, TLS, { env: { KEYROLL_AGENT_LISTEN_PORT: 'seventy' } })
  t.match(msg, /listen\.port: must be an integer .*\(set by KEYROLL_AGENT_LISTEN_PORT\)/)
  t.notMatch(msg, /line \d/, 'no file line for a value the file did not set')
})

t.test('an unknown KEYROLL_AGENT_ variable is refused (a typo must not be ignored)', async t => {
  t.match(await problems(t, TLS, { env: { KEYROLL_AGENT_LISTEN_PROT: '1' } }), /KEYROLL_AGENT_LISTEN_PROT: unknown environment variable; known: .*KEYROLL_AGENT_LISTEN_PORT/)
})

t.test('rules: normalised paths, distinct files, durations, coordinator URL', async t => {
  t.match(await problems(t, `${TLS}stateDir: /var/lib/../lib/keyroll/\n`), /stateDir: must be a normalised path .*did you mean \/var\/lib\/keyroll\?/)
  t.match(await problems(t, `${TLS}files:\n  env:\n    path: /etc/minkms/config.yaml\n`), /files\.env\.path: must differ from files\.config\.path/)
  t.match(await problems(t, `${TLS}verify:\n  deadline: 5s\n  stableFor: 10s\n`), /verify\.stableFor: stableFor must be shorter than deadline/)
  t.match(await problems(t, `${TLS}verify:\n  deadline: 1 minute\n`), /verify\.deadline: .*duration/)
  t.match(await problems(t, `${TLS}coordinator:\n  url: https://admin:pw@coord:7500\n  cert: /c.pem\n  key: /c.key\n`), /coordinator\.url: must not contain credentials/)
  t.match(await problems(t, `${TLS}coordinator:\n  url: http://coord:7500\n  cert: /c.pem\n  key: /c.key\n`), /coordinator\.url: .*https:\/\//)
  t.match(await problems(t, `${TLS}minkms:\n  endpoint: localhost\n`), /minkms\.endpoint: .*host:port/)
  t.match(await problems(t, `${TLS}files:\n  config:\n    kind: env\n`), /files\.config\.kind/)
})

t.test('every problem is reported at once', async t => {
  const msg = await problems(t, 'listen:\n  port: -1\nbackups:\n  keep: 0\nlog:\n  level: loud\n')
  t.match(msg, /listen\.port/)
  t.match(msg, /backups\.keep/)
  t.match(msg, /log\.level: must be one of: fatal, error, warn, info, debug, trace, silent/)
})

t.test('unreadable and malformed files', async t => {
  const dir = t.testdir({ 'bad.yaml': 'listen:\n  port: [1,\n', 'list.yaml': '- a\n- b\n' })
  await t.rejects(loadAgentConfig({ file: join(dir, 'missing.yaml'), env: {} }), { code: 'SHR_DAEMON_CONFIG_UNREADABLE', message: /missing\.yaml: ENOENT/ })
  await t.rejects(loadAgentConfig({ file: join(dir, 'bad.yaml'), env: {} }), { code: 'SHR_DAEMON_CONFIG_UNREADABLE', message: /not valid YAML at line \d+/ })
  await t.rejects(loadAgentConfig({ file: join(dir, 'list.yaml'), env: {} }), { message: /must be a mapping/ })
})

t.test('an empty file is all defaults', async t => {
  t.match(await problems(t, ''), /tls: missing/)
})

t.test('isLoopbackHost', async t => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(h), h)
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'node1', '128.0.0.1', 'localhost.example.com']) t.notOk(isLoopbackHost(h), h)
})

t.test('tls.allowedClients: optional; a list of certificate names, none blank or padded', async t => {
  t.equal((await load(t, TLS)).tls?.allowedClients, undefined, 'absent: every certificate of clientCa')
  t.same((await load(t, `${TLS}  allowedClients: [coord, keyroll lab client]\n`)).tls?.allowedClients, ['coord', 'keyroll lab client'])
  t.match(await problems(t, `${TLS}  allowedClients: []\n`), /tls\.allowedClients/)
  t.match(await problems(t, `${TLS}  allowedClients: [" coord"]\n`), /tls\.allowedClients\[0\]: must be a name of a client certificate/)
  t.match(await problems(t, `${TLS}  allowedClients: coord\n`), /tls\.allowedClients/)
})
