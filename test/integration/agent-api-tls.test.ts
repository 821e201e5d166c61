// HTTPS with client-certificate verification, end to end through `keyroll-agent serve`: config
// file → TLS files → listen on 127.0.0.1:0. Only a client certificate issued by tls.clientCa
// gets an answer; the handshake refuses the others before any route runs.
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import t, { type Test } from 'tap'
import { webcrypto } from 'node:crypto'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { runCli } from '../../agent/cli.js'
import { FakeAgentCore } from '../helpers/fake-agent-core.js'

// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto implements it.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type Keys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys']
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const HOUR = 3_600_000

async function keyPair (): Promise<Keys> {
  return await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as unknown as Keys
}

async function pkcs8 (keys: Keys): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey)
  return x509.PemConverter.encode(der, 'PRIVATE KEY')
}

interface Ca { cert: x509.X509Certificate, keys: Keys }

async function ca (name: string): Promise<Ca> {
  const keys = await keyPair()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + HOUR),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)
    ]
  })
  return { cert, keys }
}

async function issue (issuer: Ca, name: string, usage: 'server' | 'client'): Promise<{ cert: string, key: string }> {
  const keys = await keyPair()
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: usage === 'server' ? '02' : '03',
    subject: `CN=${name}`,
    issuer: issuer.cert.subject,
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + HOUR),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      ...(usage === 'server' ? [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])] : [])
    ]
  })
  return { cert: cert.toString('pem'), key: await pkcs8(keys) }
}

const trusted = await ca('keyroll clients CA')
const stranger = await ca('some other CA')
const server = await issue(trusted, 'node1 agent', 'server')
const goodClient = await issue(trusted, 'keyroll-coordinator', 'client')
const badClient = await issue(stranger, 'keyroll-coordinator', 'client')
const caPem = trusted.cert.toString('pem')

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
