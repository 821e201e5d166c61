// HTTPS with client-certificate verification, end to end through `keyroll-agent serve`: config
// file → TLS files → listen on 127.0.0.1:0. Only a client certificate issued by tls.clientCa
// gets an answer; the handshake refuses the others before any route runs.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { runCli } from '../../agent/cli.js'
import { FakeAgentCore } from '../helpers/fake-agent-core.js'
import { LabCa } from '../lab/lab-ca.js'

const trusted = await LabCa.create('keyroll clients CA')
const stranger = await LabCa.create('some other CA')
const server = await trusted.issue({ commonName: 'node1 agent', ips: ['127.0.0.1'], usage: ['server'] })
const goodClient = await trusted.issue({ commonName: 'keyroll-coordinator', usage: ['client'] })
const badClient = await stranger.issue({ commonName: 'keyroll-coordinator', usage: ['client'] })
const caPem = trusted.certPem

const dir = t.testdir({
  'agent.pem': server.cert,
  'agent.key': server.key,
  'clients-ca.pem': caPem,
  'agent.yaml': ''
})
const { writeFile } = await import('node:fs/promises')
await writeFile(join(dir, 'agent.yaml'), [
  'node: node1',
  'listen: { host: 127.0.0.1, port: 0 }',
  'tls:',
  `  cert: ${join(dir, 'agent.pem')}`,
  `  key: ${join(dir, 'agent.key')}`,
  `  clientCa: ${join(dir, 'clients-ca.pem')}`,
  ''
].join('\n'))

const core = new FakeAgentCore()
const stop = new AbortController()
const logs: string[] = []
let onAddress: (a: string) => void = () => {}
const listening = new Promise<string>(resolve => { onAddress = resolve })
const served = runCli(['serve', '--config', join(dir, 'agent.yaml')], { stdout: { write: () => true }, stderr: { write: () => true } }, {
  createCore: async () => core,
  stopSignal: stop.signal,
  onListening: a => { onAddress(a) },
  logDestination: { write: (l: string) => logs.push(l) }
})
t.teardown(async () => { stop.abort(); await served })
const base = await listening
t.match(base, /^https:\/\/127\.0\.0\.1:\d+$/)

function client (t: Test, identity?: { cert: string, key: string }): Agent {
  const agent = new Agent({ connect: { ca: caPem, ...identity } })
  t.teardown(() => agent.close())
  return agent
}

t.test('no client certificate: refused in the handshake', async t => {
  await t.rejects(request(`${base}/v1/status`, { dispatcher: client(t) }))
  t.same(core.calls, [], 'no route ran')
})

t.test('a client certificate from another CA: refused', async t => {
  await t.rejects(request(`${base}/v1/status`, { dispatcher: client(t, badClient) }))
  t.same(core.calls, [], 'no route ran')
})

t.test('a client certificate from clientCa: 200', async t => {
  const res = await request(`${base}/v1/status`, { dispatcher: client(t, goodClient) })
  t.equal(res.statusCode, 200)
  t.match(await res.body.json(), { node: 'node1' })
  const live = await request(`${base}/health/live`, { dispatcher: client(t, goodClient) })
  t.equal(live.statusCode, 200, 'health too (monitoring needs a client certificate)')
  await live.body.dump()
})

t.test('plain HTTP to the TLS port gets nothing', async t => {
  const agent = new Agent()
  t.teardown(() => agent.close())
  await t.rejects(request(base.replace('https:', 'http:') + '/health/live', { dispatcher: agent }))
})

t.test('the private key never reaches the log', async t => {
  const body = server.key.split('\n').slice(1, -2).join('')
  t.notOk(logs.join('').includes(body.slice(0, 40)))
  t.ok(logs.some(l => l.includes('"msg":"listening"') && l.includes('"tls":true')))
})
