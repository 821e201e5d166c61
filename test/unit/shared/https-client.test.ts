// shared/https-client.ts against real TLS servers on 127.0.0.1: mutual TLS, keep-alive reuse, the
// three timeouts (each one named by its phase), close() waiting for bodies in flight.
import t from 'tap'
import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { HttpTimeoutError, HttpsClient, discard, readBody } from '../../../shared/https-client.js'
import { LabCa } from '../../lab/lab-ca.js'

const ca = await LabCa.create('https-client test CA')
const server = await ca.issue({ commonName: 'server', ips: ['127.0.0.1'], dns: ['localhost'], usage: ['server'] })
const clientCert = await ca.issue({ commonName: 'the client', usage: ['client'] })

interface T { teardown: (fn: () => unknown) => void }

/** An HTTPS server that asks for (and verifies) client certificates; `seen` has each peer's CN. */
async function serve (t: T, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ origin: string, seen: string[], sockets: Set<unknown> }> {
  const seen: string[] = []
  const sockets = new Set<unknown>()
  const srv = createHttpsServer({ cert: server.cert, key: server.key, ca: ca.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate()
    seen.push(typeof peer.subject?.CN === 'string' ? peer.subject.CN : '-')
    sockets.add(req.socket)
    handler(req, res)
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  t.teardown(() => { srv.closeAllConnections(); srv.close() })
  return { origin: `https://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen, sockets }
}

function client (t: T, timeoutMs = 2000): HttpsClient {
  const c = new HttpsClient({ ca: ca.certPem, cert: clientCert.cert, key: clientCert.key, timeoutMs })
  t.teardown(async () => { await c.close() })
  return c
}

const tooLarge = (): Error => new Error('too large')

t.test('a POST with mutual TLS, then a GET on the same kept-alive connection', async t => {
  const srv = await serve(t, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`) })
  })
  const c = client(t)
  const a = await c.request({ origin: srv.origin, path: '/a', method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })
  t.equal(a.statusCode, 200)
  t.equal((await readBody(a.body, 1024, false, tooLarge)).toString(), 'POST /a hello')
  const b = await c.request({ origin: srv.origin, path: '/b', method: 'GET' })
  t.equal((await readBody(b.body, 1024, false, tooLarge)).toString(), 'GET /b ')
  t.same(srv.seen, ['the client', 'the client'], 'the client certificate was presented')
  t.equal(srv.sockets.size, 1, 'one connection served both requests')
})

t.test('readBody cuts or refuses a body over the limit; discard frees the socket', async t => {
  const srv = await serve(t, (_req, res) => { res.writeHead(200); res.end('x'.repeat(100)) })
  const c = client(t)
  t.equal((await readBody((await c.request({ origin: srv.origin, path: '/', method: 'GET' })).body, 10, true, tooLarge)).length, 10, 'cut')
  await t.rejects(readBody((await c.request({ origin: srv.origin, path: '/', method: 'GET' })).body, 10, false, tooLarge), { message: 'too large' })
  await discard((await c.request({ origin: srv.origin, path: '/', method: 'GET' })).body)
  const last = await c.request({ origin: srv.origin, path: '/', method: 'GET' })
  t.equal((await readBody(last.body, 1000, false, tooLarge)).length, 100, 'the next request after a discard works')
})

t.test('the server certificate is verified', async t => {
  const srv = await serve(t, (_req, res) => { res.end() })
  const other = await LabCa.create('unrelated CA')
  const wrongCa = new HttpsClient({ ca: other.certPem, timeoutMs: 2000 })
  t.teardown(async () => { await wrongCa.close() })
  await t.rejects(wrongCa.request({ origin: srv.origin, path: '/', method: 'GET' }), { code: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN/ })
  const wrongName = new HttpsClient({ ca: ca.certPem, servername: 'other.example', timeoutMs: 2000 })
  t.teardown(async () => { await wrongName.close() })
  await t.rejects(wrongName.request({ origin: srv.origin, path: '/', method: 'GET' }), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })
  t.equal(srv.seen.length, 0, 'nothing reached the handler')
})

/** A TCP server that accepts connections and never says anything (no TLS handshake). */
async function silentTcp (t: T): Promise<string> {
  const sockets = new Set<Socket>()
  const srv: Server = createTcpServer((s) => { sockets.add(s) })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  t.teardown(() => { for (const s of sockets) s.destroy(); srv.close() })
  return `https://127.0.0.1:${(srv.address() as AddressInfo).port}`
}

t.test('each wait has its own timeout, named by phase', async t => {
  const silent = await silentTcp(t)
  const c = client(t, 200)
  const connect = await c.request({ origin: silent, path: '/', method: 'GET' }).catch((e: unknown) => e)
  t.ok(connect instanceof HttpTimeoutError)
  t.match(connect, { code: 'SHR_HTTP_CONNECT_TIMEOUT', phase: 'connect' }, 'no TLS handshake: a connect timeout (nothing was sent)')

  const noAnswer = await serve(t, () => { /* never answers */ })
  await t.rejects(c.request({ origin: noAnswer.origin, path: '/', method: 'GET' }), { code: 'SHR_HTTP_HEADERS_TIMEOUT', phase: 'headers' })

  const stalls = await serve(t, (_req, res) => { res.writeHead(200, { 'content-length': 10 }); res.write('abc') })
  const res = await c.request({ origin: stalls.origin, path: '/', method: 'GET' })
  t.equal(res.statusCode, 200)
  await t.rejects(readBody(res.body, 100, false, tooLarge), { code: 'SHR_HTTP_BODY_TIMEOUT', phase: 'body' })

  const slowButSteady = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-length': 4 })
    let n = 0
    const tick = setInterval(() => { res.write('x'); if (++n === 4) { clearInterval(tick); res.end() } }, 120)
  })
  const steady = await c.request({ origin: slowButSteady.origin, path: '/', method: 'GET' })
  t.equal((await readBody(steady.body, 100, false, tooLarge)).toString(), 'xxxx', 'the body timeout is per pause, not for the whole body (480 ms > 200 ms)')
})

t.test('close waits for a body in flight, then refuses new requests', async t => {
  let finish = (): void => {}
  const srv = await serve(t, (_req, res) => { res.writeHead(200, { 'content-length': 2 }); res.write('a'); finish = () => { res.end('b') } })
  const c = new HttpsClient({ ca: ca.certPem, timeoutMs: 2000 })
  const res = await c.request({ origin: srv.origin, path: '/', method: 'GET' })
  const reading = readBody(res.body, 10, false, tooLarge)
  let closed = false
  const closing = c.close().then(() => { closed = true })
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(closed, false, 'not closed while a body is being read')
  finish()
  t.equal((await reading).toString(), 'ab')
  await closing
  t.equal(closed, true)
  await t.rejects(c.request({ origin: srv.origin, path: '/', method: 'GET' }), { message: /closed/ })
})

t.test('an aborted request rejects with the abort', async t => {
  const srv = await serve(t, () => { /* never answers */ })
  const c = client(t)
  const ac = new AbortController()
  const pending = c.request({ origin: srv.origin, path: '/', method: 'GET', signal: ac.signal })
  setTimeout(() => { ac.abort() }, 50)
  await t.rejects(pending, { name: 'AbortError' })
})

/** Resolves when `socket` closes, or rejects after `ms` (a bound, not a measurement). */
async function closedWithin (socket: unknown, ms: number): Promise<void> {
  const s = socket as Socket
  if (s.destroyed) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the connection was still open after ${ms} ms`)) }, ms)
    s.once('close', () => { clearTimeout(timer); resolve() })
  })
}

t.test('idleSocketMs closes an idle kept-alive connection early; the default keeps it', async t => {
  const srv = await serve(t, (_req, res) => { res.writeHead(200); res.end('ok') })
  const short = new HttpsClient({ ca: ca.certPem, cert: clientCert.cert, key: clientCert.key, timeoutMs: 2000, idleSocketMs: 50 })
  t.teardown(async () => { await short.close() })
  const kept = client(t)
  for (const c of [kept, short]) await readBody((await c.request({ origin: srv.origin, path: '/', method: 'GET' })).body, 16, false, tooLarge)
  const [keptSocket, shortSocket] = [...srv.sockets] as Socket[]
  // Either closes by its own idle bound only: the short one long before the default's 4 s.
  await closedWithin(shortSocket, 2000)
  t.ok(shortSocket?.destroyed, 'the short-idle client closed its connection')
  t.notOk(keptSocket?.destroyed, 'the default client still keeps its connection')
})
