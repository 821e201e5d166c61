// Client pinning on a real HTTPS agent, with the certificates and the `tls` section that
// `keyroll pki init` makes: every certificate of the site comes from one CA, so each node's client
// certificate (made for boot slots) passes the handshake at every agent; `tls.allowedClients`
// (the coordinator's name, as pki writes it) is what keeps node2's certificate from calling
// node1's agent while the coordinator's certificate can. Without the setting, every certificate of
// the CA is answered (the weaker behaviour of configs written before it).
import t, { type Test } from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { runCli } from '../../agent/cli.js'
import { parseAgentSpec, subjectNames } from '../../coordinator/pki/names.js'
import { agentPaths, caPaths, coordinatorPaths, type CertKeyPaths } from '../../coordinator/pki/pki-layout.js'
import { AGENT_TLS_DIR } from '../../coordinator/pki/agent-tls-config.js'
import { initPki } from '../../coordinator/pki/site-pki.js'
import { FakeAgentCore } from '../helpers/fake-agent-core.js'

const dir = t.testdir({})
const pki = join(dir, 'pki')
await initPki({ dir: pki, coordinatorName: 'coord', coordinatorNames: subjectNames(['127.0.0.1'], 'test'), agents: ['node1=127.0.0.1', 'node2=127.0.0.1'].map(parseAgentSpec) })
const ca = await readFile(caPaths(pki).crt, 'utf8')
const node1 = agentPaths(pki, 'node1')

// node1's agent config: the section pki wrote, its paths pointed at the pki directory instead of
// /etc/keyroll/tls (where an operator copies the files).
const section = (await readFile(node1.config, 'utf8'))
  .replaceAll(`${AGENT_TLS_DIR}/ca.crt`, caPaths(pki).crt)
  .replaceAll(`${AGENT_TLS_DIR}/server.crt`, node1.server.crt)
  .replaceAll(`${AGENT_TLS_DIR}/server.key`, node1.server.key)

interface Served { base: string, core: FakeAgentCore, logs: string[] }

async function serve (t: Test, name: string, tls: string): Promise<Served> {
  const file = join(dir, `${name}.yaml`)
  await writeFile(file, `node: node1\nlisten: { host: 127.0.0.1, port: 0 }\nstateDir: ${dir}/state-${name}\n${tls}`)
  const core = new FakeAgentCore()
  const stop = new AbortController()
  const logs: string[] = []
  let onAddress: (a: string) => void = () => {}
  const listening = new Promise<string>(resolve => { onAddress = resolve })
  const served = runCli(['serve', '--config', file], { stdout: { write: () => true }, stderr: { write: () => true } }, {
    createCore: async () => core,
    stopSignal: stop.signal,
    onListening: a => { onAddress(a) },
    logDestination: { write: (l: string) => logs.push(l) }
  })
  t.teardown(async () => { stop.abort(); await served })
  return { base: await listening, core, logs }
}

async function identity (p: CertKeyPaths): Promise<{ cert: string, key: string }> {
  return { cert: await readFile(p.crt, 'utf8'), key: await readFile(p.key, 'utf8') }
}

async function call (t: Test, url: string, who: { cert: string, key: string }): Promise<{ status: number, body: Record<string, unknown> }> {
  const dispatcher = new Agent({ connect: { ca, ...who } })
  t.teardown(() => dispatcher.close())
  const res = await request(url, { dispatcher })
  return { status: res.statusCode, body: await res.body.json() as Record<string, unknown> }
}

const coordinator = await identity(coordinatorPaths(pki).client)
const node2Client = await identity(agentPaths(pki, 'node2').client)
const node1Client = await identity(node1.client)

t.test('with the tls section pki wrote: the coordinator\'s certificate is answered, a node\'s is refused with 403', async t => {
  const a = await serve(t, 'pinned', section)
  const ok = await call(t, `${a.base}/v1/status`, coordinator)
  t.equal(ok.status, 200, 'the coordinator\'s client certificate')
  t.match(ok.body, { node: 'node1' })
  const calls = a.core.calls.length

  const refused = await call(t, `${a.base}/v1/status`, node2Client)
  t.equal(refused.status, 403, 'node2\'s client certificate, from the same CA')
  t.match(refused.body, { code: 'AGT_CLIENT_NOT_ALLOWED', statusCode: 403, message: /allowedClients.*names node2$/ })
  const own = await call(t, `${a.base}/health/live`, node1Client)
  t.equal(own.status, 403, 'the node\'s own client certificate is no coordinator either, on every route')
  const unknownRoute = await call(t, `${a.base}/v1/nothing`, node2Client)
  t.equal(unknownRoute.status, 403, 'refused before routing')
  t.equal(a.core.calls.length, calls, 'no route ran for a refused caller')

  const warned = a.logs.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.msg === 'client certificate not allowed')
  t.equal(warned.length, 3, 'each refusal logged')
  t.match(warned[0], { level: 40, peer: '127.0.0.1', clientNames: ['node2'], url: '/v1/status' })
})

t.test('without tls.allowedClients: every certificate of the CA is answered (the weaker default)', async t => {
  const a = await serve(t, 'open', section.replace(/^ {2}allowedClients:.*\n/m, ''))
  t.equal((await call(t, `${a.base}/v1/status`, node2Client)).status, 200, 'node2\'s certificate calls node1\'s agent')
  t.equal((await call(t, `${a.base}/v1/status`, coordinator)).status, 200)
})
