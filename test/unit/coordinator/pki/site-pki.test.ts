// keyroll pki: the layout and modes, certificates that verify against the site's CA with the right
// names and usages, a real mutual-TLS handshake with them, and the refusals (existing CA, agent
// with other addresses, no CA, bad names).
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer, type TLSSocket } from 'node:tls'
import { parseAgentSpec, subjectNames } from '../../../../coordinator/pki/names.js'
import { agentPaths, caPaths, coordinatorPaths } from '../../../../coordinator/pki/pki-layout.js'
import { addAgent, initPki } from '../../../../coordinator/pki/site-pki.js'
import { loadAgentConfig } from '../../../../agent/config.js'

async function tmp (t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyroll-pki-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return join(dir, 'pki')
}

async function cert (path: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(path))
}

async function init (dir: string, agents = ['node1=10.0.0.11', 'node2=10.0.0.12,node2.example.net']): Promise<void> {
  await initPki({ dir, coordinatorName: 'coord', coordinatorNames: subjectNames(['127.0.0.1', 'coord.example.net'], 'test'), agents: agents.map(parseAgentSpec) })
}

const EKU_SERVER = '1.3.6.1.5.5.7.3.1'
const EKU_CLIENT = '1.3.6.1.5.5.7.3.2'

t.test('init writes the layout: keys 0600, certificates 0644, each verifying against the CA with its names and one usage', async t => {
  const dir = await tmp(t)
  await init(dir)
  const ca = await cert(caPaths(dir).crt)
  t.ok(ca.ca, 'ca.crt is a CA')
  t.ok(ca.verify(ca.publicKey), 'self-signed')
  const files = [caPaths(dir), coordinatorPaths(dir).server, coordinatorPaths(dir).client, ...['node1', 'node2'].flatMap(n => [agentPaths(dir, n).server, agentPaths(dir, n).client])]
  for (const f of files) {
    t.equal((await stat(f.key)).mode & 0o777, 0o600, `${f.key} is 0600`)
    t.equal((await stat(f.crt)).mode & 0o777, 0o644, `${f.crt} is 0644`)
  }
  t.equal((await stat(dir)).mode & 0o777, 0o700, 'the directory is 0700')

  const server = await cert(coordinatorPaths(dir).server.crt)
  t.ok(server.verify(ca.publicKey), 'coordinator server cert signed by the CA')
  t.equal(server.checkIP('127.0.0.1'), '127.0.0.1')
  t.equal(server.checkHost('coord.example.net'), 'coord.example.net')
  t.equal(server.checkHost('coord'), 'coord', 'its name is a DNS name too')
  t.same(server.keyUsage, [EKU_SERVER])
  const client = await cert(coordinatorPaths(dir).client.crt)
  t.ok(client.verify(ca.publicKey))
  t.same(client.keyUsage, [EKU_CLIENT])

  const n2 = await cert(agentPaths(dir, 'node2').server.crt)
  t.ok(n2.verify(ca.publicKey))
  t.equal(n2.checkIP('10.0.0.12'), '10.0.0.12')
  t.equal(n2.checkHost('node2.example.net'), 'node2.example.net')
  t.equal(n2.checkIP('10.0.0.11'), undefined, 'not valid for another node\'s address')
  t.same(n2.keyUsage, [EKU_SERVER])
  const c1 = await cert(agentPaths(dir, 'node1').client.crt)
  t.ok(c1.verify(ca.publicKey))
  t.equal(c1.subject, 'CN=node1', 'an agent client certificate names its node (boot slots)')
  t.same(c1.keyUsage, [EKU_CLIENT])
  t.notOk(c1.ca)
})

/** A TLS server with an agent's server certificate that requires a client certificate from `clientCa`. */
async function agentServer (t: { teardown: (fn: () => unknown) => void }, dir: string, clientCa: string): Promise<{ port: number, peers: string[] }> {
  const p = agentPaths(dir, 'node1').server
  const peers: string[] = []
  const srv = createServer({ cert: await readFile(p.crt), key: await readFile(p.key), ca: clientCa, requestCert: true, rejectUnauthorized: true }, (s: TLSSocket) => {
    const cn = s.getPeerCertificate().subject?.CN
    peers.push(typeof cn === 'string' ? cn : '-')
    s.end('hello')
  })
  srv.on('tlsClientError', () => {})
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  t.teardown(() => { srv.close() })
  return { port: (srv.address() as AddressInfo).port, peers }
}

async function handshake (port: number, ca: string, client: { crt: string, key: string }, servername: string): Promise<string> {
  const s = connect({ host: '127.0.0.1', port, servername, ca, cert: await readFile(client.crt), key: await readFile(client.key) })
  const chunks: Buffer[] = []
  s.on('data', (c: Buffer) => chunks.push(c))
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject)
    s.once('end', resolve)
    s.once('close', () => { resolve() })
  })
  s.destroy()
  return Buffer.concat(chunks).toString()
}

t.test('mutual TLS on loopback: the coordinator\'s client certificate is accepted by an agent, one from another CA is refused', async t => {
  const dir = await tmp(t)
  await init(dir, ['node1=127.0.0.1'])
  const ca = await readFile(caPaths(dir).crt, 'utf8')
  const srv = await agentServer(t, dir, ca)
  t.equal(await handshake(srv.port, ca, coordinatorPaths(dir).client, 'node1'), 'hello', 'handshake and data')
  t.same(srv.peers, ['coord'], 'the agent saw the coordinator\'s certificate')

  const other = await tmp(t)
  await init(other, ['node1=127.0.0.1'])
  const refused = await handshake(srv.port, ca, coordinatorPaths(other).client, 'node1').then(d => d, (err: Error) => `error: ${err.message}`)
  t.not(refused, 'hello', 'no data for a client certificate of another CA')
  t.same(srv.peers, ['coord'], 'the handler never ran for it')

  await t.rejects(handshake(srv.port, await readFile(caPaths(other).crt, 'utf8'), coordinatorPaths(dir).client, 'node1'), 'the client refuses an agent certificate of another CA')
})

t.test('an existing CA is kept unless --force; --force re-issues every certificate, agents included', async t => {
  const dir = await tmp(t)
  await init(dir)
  const before = await readFile(caPaths(dir).crt, 'utf8')
  await t.rejects(init(dir), { code: 'CRD_PKI_CA_EXISTS' })
  t.equal(await readFile(caPaths(dir).crt, 'utf8'), before, 'the CA is untouched')

  await initPki({ dir, coordinatorName: 'coord', coordinatorNames: subjectNames([], 'test'), agents: [parseAgentSpec('node3=10.0.0.13')], force: true })
  const ca = await cert(caPaths(dir).crt)
  t.not(ca.toString(), new X509Certificate(before).toString(), 'a new CA')
  for (const n of ['node1', 'node2', 'node3']) t.ok((await cert(agentPaths(dir, n).server.crt)).verify(ca.publicKey), `${n} re-issued by the new CA`)
  t.equal((await cert(agentPaths(dir, 'node2').server.crt)).checkHost('node2.example.net'), 'node2.example.net', 'with the names it had')
})

t.test('add-agent: creates with the existing CA, leaves an identical agent alone, refuses other addresses unless --force', async t => {
  const dir = await tmp(t)
  await t.rejects(addAgent({ dir, agent: parseAgentSpec('node9=10.0.0.19') }), { code: 'CRD_PKI_NO_CA' })
  await init(dir)
  const ca = await cert(caPaths(dir).crt)
  const r = await addAgent({ dir, agent: parseAgentSpec('node3=10.0.0.13') })
  t.equal(r.agents[0]?.status, 'created')
  t.ok((await cert(agentPaths(dir, 'node3').server.crt)).verify(ca.publicKey))

  const pem = await readFile(agentPaths(dir, 'node1').server.crt, 'utf8')
  const same = await addAgent({ dir, agent: parseAgentSpec('node1=10.0.0.11') })
  t.equal(same.agents[0]?.status, 'unchanged')
  t.equal(await readFile(agentPaths(dir, 'node1').server.crt, 'utf8'), pem, 'files untouched')

  await t.rejects(addAgent({ dir, agent: parseAgentSpec('node1=10.0.0.99') }), { code: 'CRD_PKI_AGENT_EXISTS' })
  const forced = await addAgent({ dir, agent: parseAgentSpec('node1=10.0.0.99'), force: true })
  t.equal(forced.agents[0]?.status, 'reissued')
  t.equal((await cert(agentPaths(dir, 'node1').server.crt)).checkIP('10.0.0.99'), '10.0.0.99')
})

t.test('each agent gets its config\'s tls section, answering the coordinator\'s client certificate only', async t => {
  const dir = await tmp(t)
  await init(dir)
  const p = agentPaths(dir, 'node1')
  t.equal((await stat(p.config)).mode & 0o777, 0o644)
  const section = await readFile(p.config, 'utf8')
  t.match(section, /^ {2}allowedClients: \["coord"\]$/m)
  t.equal(/^CN=(.+)$/m.exec((await cert(coordinatorPaths(dir).client.crt)).subject)?.[1], 'coord', 'the name is the coordinator client certificate\'s CN')
  // The section is valid agent config as it stands.
  const file = join(dir, 'agent.yaml')
  await writeFile(file, `node: node1\n${section}`)
  const config = await loadAgentConfig({ file, env: {} })
  t.same(config.tls, { cert: '/etc/keyroll/tls/server.crt', key: '/etc/keyroll/tls/server.key', clientCa: '/etc/keyroll/tls/ca.crt', allowedClients: ['coord'] })

  // add-agent writes it too, and writes a missing one for an unchanged agent without touching its certificates.
  await addAgent({ dir, agent: parseAgentSpec('node3=10.0.0.13') })
  t.equal(await readFile(agentPaths(dir, 'node3').config, 'utf8'), section.replaceAll('node1', 'node3'))
  await rm(p.config)
  const pem = await readFile(p.server.crt, 'utf8')
  t.equal((await addAgent({ dir, agent: parseAgentSpec('node1=10.0.0.11') })).agents[0]?.status, 'unchanged')
  t.equal(await readFile(p.config, 'utf8'), section)
  t.equal(await readFile(p.server.crt, 'utf8'), pem)
})

t.test('no agent may carry the coordinator\'s name (its client certificate would pass for the coordinator\'s)', async t => {
  const dir = await tmp(t)
  await t.rejects(initPki({ dir, coordinatorName: 'coord', coordinatorNames: subjectNames([], 'test'), agents: [parseAgentSpec('COORD=10.0.0.5')] }), { code: 'CRD_PKI_INVALID_INPUT', message: /coordinator's name/ })
  await t.rejects(stat(caPaths(dir).crt), { code: 'ENOENT' }, 'nothing written')
  await init(dir)
  await t.rejects(addAgent({ dir, agent: parseAgentSpec('node7=10.0.0.17,coord') }), { code: 'CRD_PKI_INVALID_INPUT', message: /"coord" is the coordinator's name/ })
})

t.test('names and addresses are checked before anything is generated', async t => {
  for (const bad of ['node1', '=10.0.0.1', 'node1=', 'no de=10.0.0.1', 'node1=10.0.0.1,not_a name', '-x=10.0.0.1']) {
    t.throws(() => parseAgentSpec(bad), { code: 'CRD_PKI_INVALID_INPUT' }, bad)
  }
  t.same(parseAgentSpec('n1=10.0.0.1,[::1],N1.Example.NET'), { node: 'n1', ips: ['10.0.0.1', '::1'], dns: ['n1.example.net', 'n1'] })
})
