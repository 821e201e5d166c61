// Finding 7 of the hostile-input review, over mutual TLS on loopback: a refused client
// certificate (another CA, no clientAuth usage, none at all) is logged with the peer address and
// the reason, never with key material, and the log is rate-limited. Finding 1 over mTLS too.
import t from 'tap'
import { connect as tlsConnect } from 'node:tls'
import { Agent, request } from 'undici'
import { LabCa } from '../lab/lab-ca.js'
import { prototypeKeys, startRealAgent } from '../helpers/real-agent.js'
import { TlsRefusalLog } from '../../shared/tls-refusals.js'
import { captureLogger } from '../helpers/fake-agent-core.js'

const trusted = await LabCa.create('keyroll clients CA')
const stranger = await LabCa.create('some other CA')
const server = await trusted.issue({ commonName: 'node1 agent', ips: ['127.0.0.1'], usage: ['server'] })
const goodClient = await trusted.issue({ commonName: 'keyroll-coordinator', usage: ['client'] })
const otherCa = await stranger.issue({ commonName: 'keyroll-coordinator', usage: ['client'] })
const serverOnly = await trusted.issue({ commonName: 'not a client', usage: ['server'] })
const agent = await startRealAgent(t, { tls: { cert: server.cert, key: server.key, clientCa: trusted.certPem } })
const port = Number(new URL(agent.base).port)

/** Completes (or fails) one TLS session with `identity`; resolves when the server has decided. */
async function handshake (identity?: { cert: string, key: string }): Promise<void> {
  await new Promise<void>(resolve => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: trusted.certPem, servername: '127.0.0.1', ...(identity ?? {}) })
    s.on('data', () => {})
    s.on('error', () => { resolve() })
    s.on('close', () => { resolve() })
  })
}

async function refusals (n: number): Promise<Array<Record<string, unknown>>> {
  // The server logs when its side of the handshake fails; poll the captured lines with a deadline.
  const deadline = Date.now() + 5000
  for (;;) {
    const found = agent.lines.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.msg === 'TLS handshake refused')
    if (found.length >= n || Date.now() > deadline) return found
    await new Promise(resolve => setImmediate(resolve))
  }
}

t.test('refused client certificates are logged with peer and reason, never key material', async t => {
  await handshake(otherCa)
  await handshake(serverOnly)
  await handshake()
  const logged = await refusals(3)
  t.ok(logged.length >= 3, `three refusals logged (got ${logged.length})`)
  for (const l of logged) {
    t.match(l.peer, /127\.0\.0\.1$/, JSON.stringify(l))
    t.match(l.reason, /\S/, 'a reason')
    t.ok(l.level === 40 || l.level === 'warn', 'at warn')
  }
  const all = agent.lines.join('\n')
  for (const pem of [otherCa.key, otherCa.cert, serverOnly.key, server.key]) {
    const body = pem.split('\n').filter(l => l !== '' && !l.startsWith('-----'))[1] ?? 'x'
    t.notOk(all.includes(body), 'no certificate or key bytes in the log')
  }
  t.notOk(all.includes('BEGIN'), 'no PEM in the log')
})

t.test('the trusted client gets answers; a dotted __proto__ path is a 400 over mTLS too', async t => {
  const dispatcher = new Agent({ connect: { ca: trusted.certPem, cert: goodClient.cert, key: goodClient.key } })
  t.teardown(() => dispatcher.close())
  const before = prototypeKeys()
  const res = await request(`${agent.base}/v1/plan`, {
    method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ revision: 2, files: { config: { set: { '__proto__.polluted': 1 } } } })
  })
  t.equal(res.statusCode, 400)
  t.match(await res.body.json(), { code: 'SHR_CHANGE_INVALID', statusCode: 400 })
  t.same(prototypeKeys(), before)
})

t.test('the refusal log is rate-limited and reports what it suppressed', async t => {
  const { logger, lines } = captureLogger()
  let now = 0
  const log = new TlsRefusalLog(logger, { perWindow: 3, windowMs: 1000, now: () => now })
  const err = Object.assign(new Error('x'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', reason: 'tlsv13 alert certificate required' })
  for (let i = 0; i < 10; i++) log.record(err, { remoteAddress: '10.0.0.9', remotePort: 4000 + i })
  t.equal(lines.length, 3, 'three logged in the window')
  now = 1000
  log.record(err, { remoteAddress: '10.0.0.9', remotePort: 1 })
  t.match(JSON.parse(lines[3] ?? '{}'), { suppressed: 7 }, 'the next window reports the 7 suppressed')
  t.equal(lines.length, 5)
})
