// `keyroll-coordinator serve` over HTTPS on loopback, end to end from a config file, with fake
// parts: operators come with tokens and no client certificate; agents come with client
// certificates from tls.clientCa for boot slots. The agent's own slot client
// (agent/convergence-slots.ts) is the caller, so the contract of docs/agent-coordinator.md is
// checked from both sides.
import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { coordinatorGoAhead } from '../../agent/convergence-slots.js'
import type { ApplyResult } from '../../agent/core.js'
import { runCoordinator } from '../../coordinator/main.js'
import type { Clock } from '../../shared/clock.js'
import { FakeRolloutControl, FakeSlotControl } from '../helpers/fake-rollout-control.js'
import { scriptedHealth } from '../helpers/coordinator-app.js'
import { MemoryRolloutStore } from '../../coordinator/store/memory-rollout-store.js'
import { createToken } from '../../coordinator/auth/tokens.js'
import { LabCa } from '../lab/lab-ca.js'

const agentsCa = await LabCa.create('keyroll agents CA')
const stranger = await LabCa.create('some other CA')
const server = await agentsCa.issue({ commonName: 'keyroll-coordinator', ips: ['127.0.0.1'], usage: ['server'] })
const node1 = await agentsCa.issue({ commonName: 'node1', usage: ['client'] })
const node2 = await agentsCa.issue({ commonName: 'node2', dns: ['node2.lab'], usage: ['client'] })
const ghost = await agentsCa.issue({ commonName: 'ghost', usage: ['client'] })
const forged = await stranger.issue({ commonName: 'node1', usage: ['client'] })

const dir = t.testdir({})
const files: Record<string, string> = { 'server.pem': server.cert, 'server.key': server.key, 'ca.pem': agentsCa.certPem, 'node1.pem': node1.cert, 'node1.key': node1.key }
for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
await writeFile(join(dir, 'coordinator.yaml'), [
  'listen: { host: 127.0.0.1, port: 0 }',
  `tls: { cert: ${join(dir, 'server.pem')}, key: ${join(dir, 'server.key')}, clientCa: ${join(dir, 'ca.pem')} }`,
  `stateDir: ${dir}`,
  'agents: { ca: /etc/keyroll/agents-ca.pem, cert: /etc/keyroll/c.pem, key: /etc/keyroll/c.key }',
  'clusters:',
  '  - name: c1',
  '    nodes:',
  '      - { name: node1, agent: "https://127.0.0.1:7401", minkms: "127.0.0.1:7373" }',
  '      - { name: node2, agent: "https://127.0.0.1:7402", minkms: "127.0.0.1:7374" }',
  '    minkms: { ca: /etc/keyroll/minkms-ca.pem, adminKeyFile: /etc/keyroll/admin.key }',
  ''
].join('\n'))

const store = new MemoryRolloutStore()
const operator = (await createToken(store, 'ops', 'operator')).token
const slots = new FakeSlotControl()
const control = new FakeRolloutControl({ c1: ['node1', 'node2'] })
let closed = 0
const logs: string[] = []
const stop = new AbortController()
let onAddress: (a: string) => void = () => {}
const listening = new Promise<string>(resolve => { onAddress = resolve })
const served = runCoordinator(['serve', '--config', join(dir, 'coordinator.yaml')], { stdout: { write: () => true }, stderr: { write: (s: string) => logs.push(s) } }, {
  createParts: async () => ({ control, slots, store, ...scriptedHealth(), ready: async () => ({ ok: true, checks: {} }), close: async () => { closed++ } }),
  env: {},
  stopSignal: stop.signal,
  onListening: a => { onAddress(a) },
  logDestination: { write: (l: string) => logs.push(l) }
})
t.teardown(async () => { stop.abort(); await served })
const base = await listening
t.match(base, /^https:\/\/127\.0\.0\.1:\d+$/)

function client (t: Test, identity?: { cert: string, key: string }): Agent {
  const agent = new Agent({ connect: { ca: agentsCa.certPem, ...identity } })
  t.teardown(() => agent.close())
  return agent
}

async function post (t: Test, path: string, body: unknown, identity?: { cert: string, key: string }): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await request(`${base}${path}`, { method: 'POST', dispatcher: client(t, identity), headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await res.body.text()
  return { status: res.statusCode, body: text === '' ? {} : JSON.parse(text) }
}

t.test('operators: a token and no client certificate', async t => {
  const res = await request(`${base}/v1/rollouts`, { dispatcher: client(t), headers: { authorization: `Bearer ${operator}` } })
  t.equal(res.statusCode, 200)
  t.same(await res.body.json(), [])
  const live = await request(`${base}/health/live`, { dispatcher: client(t) })
  t.equal(live.statusCode, 200, 'health without anything')
  await live.body.dump()
  const none = await request(`${base}/v1/rollouts`, { dispatcher: client(t, node1) })
  t.equal(none.statusCode, 401, 'a client certificate is no token')
  await none.body.dump()
})

t.test('boot slots: the node comes from the client certificate', async t => {
  const granted = await post(t, '/v1/convergence/slots', { node: 'node1', unit: 'minkms.service', revision: 12 }, node1)
  t.equal(granted.status, 201)
  t.match(granted.body, { slotId: String, ttlMs: 120_000 })
  const bySan = await post(t, '/v1/convergence/slots', { node: 'node2.lab', unit: 'minkms.service', revision: 12 }, node2)
  t.equal(bySan.status, 403, 'a SAN name that is not a configured node')
  const other = await post(t, '/v1/convergence/slots', { node: 'node2', unit: 'minkms.service', revision: 12 }, node1)
  t.equal(other.status, 403, 'node1 asking for node2')
  t.match(other.body, { code: 'CRD_FORBIDDEN', message: /node1.*node2/ })
  const none = await post(t, '/v1/convergence/slots', { node: 'node1', unit: 'minkms.service', revision: 12 })
  t.equal(none.status, 401)
  t.equal(none.body.code, 'CRD_CLIENT_CERT_REQUIRED')
  const foreign = await post(t, '/v1/convergence/slots', { node: 'node1', unit: 'minkms.service', revision: 12 }, forged)
  t.equal(foreign.status, 401, 'a certificate from another CA counts as none')
  const unknown = await post(t, '/v1/convergence/slots', { node: 'ghost', unit: 'minkms.service', revision: 12 }, ghost)
  t.equal(unknown.status, 403, 'a certificate for a node no cluster has')
  const token = await request(`${base}/v1/convergence/slots`, { method: 'POST', dispatcher: client(t), headers: { 'content-type': 'application/json', authorization: `Bearer ${operator}` }, body: '{"node":"node1","unit":"minkms.service","revision":1}' })
  t.equal(token.statusCode, 401, 'an operator token is no client certificate')
  await token.body.dump()

  const stolen = await post(t, `/v1/convergence/slots/${String(granted.body.slotId)}/release`, { revision: 12, result: 'changed' }, node2)
  t.equal(stolen.status, 404, 'node2 cannot release node1\'s slot')
  const released = await post(t, `/v1/convergence/slots/${String(granted.body.slotId)}/release`, { revision: 12, result: 'changed', message: 'ok' }, node1)
  t.equal(released.status, 204)
  const again = await post(t, `/v1/convergence/slots/${String(granted.body.slotId)}/release`, { revision: 12, result: 'changed' }, node1)
  t.equal(again.status, 404)
  t.match(slots.calls.filter(c => c.method === 'release'), [{ node: 'node2' }, { node: 'node1' }, { node: 'node1' }])
})

t.test('the agent\'s own slot client: 409 retried after retryAfterMs, then granted and released', async t => {
  slots.busy = 'node2 is converging'
  const sleeps: number[] = []
  const clock: Clock = {
    now: () => Date.now(),
    monotonic: () => performance.now(),
    sleep: async (ms, signal) => { sleeps.push(ms); slots.busy = undefined; signal?.throwIfAborted() }
  }
  const lines: string[] = []
  const add = (_o: object, msg: string): void => { lines.push(msg) }
  const ac = new AbortController()
  t.teardown(() => { ac.abort() })
  const goAhead = await coordinatorGoAhead({ url: base, ca: join(dir, 'ca.pem'), cert: join(dir, 'node1.pem'), key: join(dir, 'node1.key'), node: 'node1', unit: 'minkms.service', clock, log: { info: add, warn: add, error: add }, signal: ac.signal, timeoutMs: 5000 })
  const release = await goAhead(13)
  t.same(sleeps, [5000], 'waited what the 409 said')
  t.ok(lines.includes('coordinator granted a convergence slot'))
  const result: ApplyResult = { result: 'changed', revision: 13, changed: true, restarted: true, message: 'revision 13 applied', plan: { revision: 13, changed: true, restart: true, files: [] } }
  await release(result)
  t.match(slots.calls.at(-1), { method: 'release', node: 'node1' })
  t.notOk(lines.includes('could not release the convergence slot'))
})

t.test('no token or key in the log', async t => {
  const text = logs.join('')
  t.ok(text.includes('"msg":"listening"') && text.includes('"tls":true'))
  t.notOk(text.includes(operator.slice(-64)))
  t.notOk(text.includes(server.key.split('\n')[1]?.slice(0, 40) ?? 'x'))
})

t.test('stopping closes the API, then the parts, once', async t => {
  stop.abort()
  t.equal(await served, 0, 'serve stopped cleanly')
  t.equal(closed, 1)
  await t.rejects(request(`${base}/health/live`, { dispatcher: client(t) }), 'nothing listens')
})
