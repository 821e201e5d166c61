// The coordinator config: defaults, layers, and every rule the schema cannot say, each problem
// named by its field.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { findNode, isLoopbackHost, loadCoordinatorConfig, nodeRefs } from '../../../coordinator/config.js'
import type { CoordinatorConfig } from '../../../coordinator/config-schema.js'

const TLS = 'tls:\n  cert: /etc/keyroll/coordinator.pem\n  key: /etc/keyroll/coordinator.key\n  clientCa: /etc/keyroll/agents-ca.pem\n'
const AGENTS = 'agents:\n  ca: /etc/keyroll/agents-ca.pem\n  cert: /etc/keyroll/coordinator-client.pem\n  key: /etc/keyroll/coordinator-client.key\n'
const MINKMS = '    minkms:\n      ca: /etc/keyroll/minkms-ca.pem\n      adminKeyFile: /etc/keyroll/admin.key\n'
function cluster (name: string, nodes: Array<[string, string, string]>): string {
  return `  - name: ${name}\n    nodes:\n${nodes.map(([n, a, m]) => `      - { name: ${n}, agent: '${a}', minkms: '${m}' }\n`).join('')}${MINKMS}`
}
const C1 = cluster('c1', [['node1', 'https://10.0.0.1:7400', '10.0.0.1:7373'], ['node2', 'https://10.0.0.2:7400', '10.0.0.2:7373']])
const GOOD = `${TLS}${AGENTS}clusters:\n${C1}`

async function load (t: Test, yaml: string, more: Partial<Parameters<typeof loadCoordinatorConfig>[0]> = {}): Promise<CoordinatorConfig> {
  const dir = t.testdir({ 'coordinator.yaml': yaml })
  return await loadCoordinatorConfig({ file: join(dir, 'coordinator.yaml'), env: {}, ...more })
}

async function problems (t: Test, yaml: string, more: Partial<Parameters<typeof loadCoordinatorConfig>[0]> = {}): Promise<string> {
  try {
    await load(t, yaml, more)
  } catch (err) {
    t.equal((err as { code?: string }).code, 'SHR_DAEMON_CONFIG_INVALID')
    return (err as Error).message
  }
  t.fail('config was accepted')
  return ''
}

t.test('defaults fill everything but TLS, agents and clusters; the result is frozen', async t => {
  const c = await load(t, GOOD)
  t.same(c.listen, { host: '0.0.0.0', port: 7480 })
  t.equal(c.stateDir, '/var/lib/keyroll-coordinator')
  t.same(c.slots, { ttl: '2m' })
  t.equal(c.log.level, 'info')
  t.ok(Object.isFrozen(c.clusters[0]?.nodes[0]))
  t.same(nodeRefs(c).map(n => `${n.cluster}/${n.name}`), ['c1/node1', 'c1/node2'])
  t.same(findNode(c, 'node2'), { cluster: 'c1', name: 'node2', agentUrl: 'https://10.0.0.2:7400', minkms: '10.0.0.2:7373' })
  t.equal(findNode(c, 'node3'), undefined)
})

t.test('layers: file < environment < flags', async t => {
  const env = { KEYROLL_COORDINATOR_LISTEN_PORT: '7481', KEYROLL_COORDINATOR_SLOTS_TTL: '30s' }
  const c = await load(t, GOOD, { env, flags: [{ path: ['log', 'level'], value: 'debug', source: '--log-level' }] })
  t.equal(c.listen.port, 7481)
  t.equal(c.slots.ttl, '30s')
  t.equal(c.log.level, 'debug')
  t.match(await problems(t, GOOD, { env: { KEYROLL_COORDINATOR_LISTN_PORT: '1' } }), /KEYROLL_COORDINATOR_LISTN_PORT: unknown environment variable/)
})

t.test('each problem is named by its field', async t => {
  const cases: Array<[string, string, RegExp]> = [
    ['no tls', `${AGENTS}clusters:\n${C1}`, /tls: missing/],
    ['tls and devInsecureHttp', `${GOOD}devInsecureHttp: true\nlisten: { host: 127.0.0.1, port: 1 }\n`, /devInsecureHttp: cannot be combined with tls/],
    ['insecure off loopback', `${AGENTS}devInsecureHttp: true\nclusters:\n${C1}`, /devInsecureHttp: plain HTTP is allowed only on a loopback address.*0\.0\.0\.0/],
    ['duplicate cluster', `${TLS}${AGENTS}clusters:\n${C1}${cluster('c1', [['node7', 'https://10.0.0.7:7400', '10.0.0.7:7373']])}`, /clusters\[1\]\.name: cluster c1 is named twice/],
    ['node in two clusters', `${TLS}${AGENTS}clusters:\n${C1}${cluster('c2', [['node1', 'https://10.0.9.1:7400', '10.0.9.1:7373']])}`, /clusters\[1\]\.nodes\[0\]\.name: node node1 is also clusters\[0\]\.nodes\[0\]\.name; node names must be unique across all clusters/],
    ['same agent twice', `${TLS}${AGENTS}clusters:\n${cluster('c1', [['a', 'https://10.0.0.1:7400', '10.0.0.1:7373'], ['b', 'https://10.0.0.1:7400/', '10.0.0.2:7373']])}`, /clusters\[0\]\.nodes\[1\]\.agent: agent URL https:\/\/10\.0\.0\.1:7400\/ is also clusters\[0\]\.nodes\[0\]\.agent/],
    ['same minkms twice', `${TLS}${AGENTS}clusters:\n${cluster('c1', [['a', 'https://10.0.0.1:7400', '10.0.0.1:7373'], ['b', 'https://10.0.0.2:7400', '10.0.0.1:7373']])}`, /clusters\[0\]\.nodes\[1\]\.minkms: minkms endpoint 10\.0\.0\.1:7373 is also/],
    ['credentials in an agent URL', `${TLS}${AGENTS}clusters:\n${cluster('c1', [['a', 'https://u:p@10.0.0.1:7400', '10.0.0.1:7373']])}`, /clusters\[0\]\.nodes\[0\]\.agent: must not contain credentials/],
    ['http agent', `${TLS}${AGENTS}clusters:\n${cluster('c1', [['a', 'http://10.0.0.1:7400', '10.0.0.1:7373']])}`, /clusters\[0\]\.nodes\[0\]\.agent/],
    ['minkms port 0', `${TLS}${AGENTS}clusters:\n${cluster('c1', [['a', 'https://10.0.0.1:7400', '10.0.0.1:0']])}`, /clusters\[0\]\.nodes\[0\]\.minkms: port must be 1-65535/],
    ['no nodes', `${TLS}${AGENTS}clusters:\n  - name: c1\n    nodes: []\n${MINKMS}`, /clusters\[0\]\.nodes: must not have fewer than 1/],
    ['relative path', `${TLS}${AGENTS}stateDir: var/lib/x\nclusters:\n${C1}`, /stateDir/],
    ['unnormalised path', `${TLS}${AGENTS}stateDir: /var/lib/../x\nclusters:\n${C1}`, /stateDir: must be a normalised path.*\/var\/x/],
    ['slot ttl too long', `${GOOD}slots: { ttl: 2h }\n`, /slots\.ttl: must be between 1s and 1h/],
    ['slot ttl not a duration', `${GOOD}slots: { ttl: soon }\n`, /slots\.ttl/],
    ['unknown field', `${GOOD}colour: blue\n`, /colour/],
    ['no agents', `${TLS}clusters:\n${C1}`, /agents/],
    ['bad log level', `${GOOD}log: { level: loud }\n`, /log\.level/],
    ['bad strategy', `${TLS}${AGENTS}clusters:\n${C1}    strategy: { maxParallel: 0 }\n`, /clusters\[0\]\.strategy\.maxParallel/],
    ['a strategy duration over a day', `${TLS}${AGENTS}clusters:\n${C1}    strategy: { minHealthyTime: 1000h }\n`, /clusters\[0\]\.strategy\.minHealthyTime: must be at most 24h/]
  ]
  for (const [what, yaml, expected] of cases) t.match(await problems(t, yaml), expected, what)
})

t.test('several problems are reported at once, with the file line', async t => {
  const yaml = `${TLS}${AGENTS}clusters:\n${C1}${cluster('c1', [['node1', 'https://10.0.0.1:7400', '10.0.0.1:7373']])}`
  const msg = await problems(t, yaml)
  t.match(msg, /cluster c1 is named twice/)
  t.match(msg, /node node1 is also/)
  t.match(msg, /agent URL/)
  t.match(await problems(t, `${GOOD}listen: { host: 127.0.0.1, port: 99999 }\n`), /listen\.port.*line \d+/s)
})

t.test('loopback hosts', async t => {
  for (const h of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3']) t.ok(isLoopbackHost(h), h)
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com']) t.notOk(isLoopbackHost(h), h)
})

t.test('an unreadable file is its own error', async t => {
  await t.rejects(loadCoordinatorConfig({ file: '/nonexistent/coordinator.yaml', env: {} }), { code: 'SHR_DAEMON_CONFIG_UNREADABLE' })
})
