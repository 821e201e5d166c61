import t from 'tap'
import type { ServerResponse } from 'node:http'
import { createMinkmsClient, type MinkmsClientOptions } from '../../../../shared/minkms/client.js'
import { Command } from '../../../../shared/minkms/commands.js'
import { decodeRequest, encodeResponseFrame, isMessageCommand } from '../../../../shared/minkms/command-messages.js'
import { decodeFrames, encodeFrames, type Frame } from '../../../../shared/minkms/frames.js'
import { encodeMessage, timestampFromDate, durationFromMs } from '../../../../shared/minkms/messages.js'
import {
  EnclaveExistsError, InvalidApiKeyError, KeyNotFoundError, MinkmsProtocolError, MinkmsRequestError,
  MinkmsUnreachableError, PermissionDeniedError, isPermissionDenied
} from '../../../../shared/minkms/errors.js'
import { MinkmsTransport } from '../../../../shared/minkms/transport.js'
import { parseEndpoints } from '../../../../shared/minkms/endpoint.js'
import { parseApiKey } from '../../../../shared/minkms/keys.js'
import { createTestPki } from './fixtures/pki.js'
import { deadEndpoint, reply, startKmsServer, type SeenRequest } from './fixtures/kms-server.js'
import { ENCLAVE_CREATE_BODY, KEY_VECTORS, PAYLOAD_VECTORS } from './fixtures/vectors.js'

const pki = await createTestPki()
const API_KEY = KEY_VECTORS[1].key
const IDENTITY = KEY_VECTORS[1].identity
const CREATED = new Date('2025-03-04T05:06:07.000Z')
const OCTET = 'application/octet-stream'

/** What the helpers need from a tap test. */
interface T { teardown: (fn: () => unknown) => void }

function client (t: T, opts: Partial<MinkmsClientOptions> & { endpoints: string[] }): ReturnType<typeof createMinkmsClient> {
  const c = createMinkmsClient({ apiKey: API_KEY, ca: pki.caPem, timeoutMs: 5000, ...opts })
  t.teardown(() => c.close())
  return c
}

// A small minkms: answers the commands the client tests use with fixed data.
function answer (req: SeenRequest, res: ServerResponse): void {
  if (req.method === 'GET') {
    if (req.url === '/version') return reply(res, 200, OCTET, encodeMessage('VersionResponse', { version: '2025-11-12T19-14-51Z', commit: 'affbaed', apiVersion: 'v1', host: 'node1:7373', fips140: false }))
    if (req.url === '/v1/health/live' || req.url === '/v1/health/ready') return reply(res, 200, 'text/plain', '')
    return reply(res, 503, 'text/plain', 'not ready for writes')
  }
  const frames = decodeFrames(req.body)
  const out: Frame[] = []
  for (const f of frames) {
    if (!isMessageCommand(f.command)) return reply(res, 400, 'text/plain', 'unknown command')
    switch (f.command) {
      case Command.KeyEncrypt: {
        const r = decodeRequest(Command.KeyEncrypt, f.payload)
        out.push(encodeResponseFrame(Command.KeyEncrypt, { version: 1, ciphertext: Buffer.from(r.plaintext).reverse() }))
        break
      }
      case Command.KeyDecrypt: {
        const r = decodeRequest(Command.KeyDecrypt, f.payload)
        if (r.version !== 1) return reply(res, 400, OCTET, encodeMessage('ErrResponse', { message: 'invalid ciphertext' }))
        out.push(encodeResponseFrame(Command.KeyDecrypt, { plaintext: Buffer.from(r.ciphertext).reverse() }))
        break
      }
      case Command.KeyGenerate: {
        const r = decodeRequest(Command.KeyGenerate, f.payload)
        out.push(encodeResponseFrame(Command.KeyGenerate, { version: 2, plaintext: Buffer.alloc(r.length || 32, 7), ciphertext: Buffer.from('ct') }))
        break
      }
      case Command.KeyStatus: {
        const r = decodeRequest(Command.KeyStatus, f.payload)
        out.push(encodeResponseFrame(Command.KeyStatus, { name: r.name, version: r.version || 3, type: 'AES256', createdAt: timestampFromDate(CREATED), createdBy: IDENTITY }))
        break
      }
      case Command.KeyList:
        out.push(encodeResponseFrame(Command.KeyList, { keys: [{ name: 'a', version: 1, type: 'ChaCha20' }], continueAt: 'b' }))
        break
      case Command.EnclaveStatus:
        out.push(encodeResponseFrame(Command.EnclaveStatus, { name: decodeRequest(Command.EnclaveStatus, f.payload).name, createdBy: IDENTITY }))
        break
      case Command.EnclaveList:
        out.push(encodeResponseFrame(Command.EnclaveList, { enclaves: [{ name: 'e1', createdAt: timestampFromDate(CREATED) }] }))
        break
      case Command.IdentityStatus:
        out.push(encodeResponseFrame(Command.IdentityStatus, {
          identity: decodeRequest(Command.IdentityStatus, f.payload).identity, privilege: 2, createdAt: timestampFromDate(CREATED), tags: { team: 'ops' }
        }))
        break
      case Command.IdentityList:
        out.push(encodeResponseFrame(Command.IdentityList, { identities: [{ identity: IDENTITY, privilege: 1 }] }))
        break
      case Command.ClusterStatus:
        out.push(encodeResponseFrame(Command.ClusterStatus, {
          nodesUp: { 0: { host: 'node1:7373', role: 'Leader', upTime: durationFromMs(90_000), commit: 12, nodes: { 0: 'node1:7373', 2: 'node3:7373' }, leaderId: 0, hsms: ['hsm:minio:soft'], configuredHsms: ['hsm:minio:soft'] } },
          nodesDown: { 2: 'node3:7373' }
        }))
        break
      default:
        break // writes: 200 with an empty body
    }
  }
  reply(res, 200, OCTET, encodeFrames(out))
}

t.test('commands round trip over mutual TLS', async t => {
  const srv = await startKmsServer(t, pki, answer)
  const c = client(t, { endpoints: [srv.endpoint] })
  t.equal(c.identity, IDENTITY)

  await c.createEnclave('aistor-key-manager')
  const create = srv.requests[0]
  t.equal(create?.method, 'POST')
  t.equal(create?.url, '/v1/kms/', 'cluster command goes to /v1/kms/ with an empty enclave')
  t.equal(create?.headers['content-type'], OCTET)
  t.equal(create?.headers.accept, 'application/*')
  t.equal(create?.headers['content-length'], String(ENCLAVE_CREATE_BODY.length / 2))
  t.equal(create?.body.toString('hex'), ENCLAVE_CREATE_BODY, 'body is the reference frame')
  t.equal(create?.identity, IDENTITY, 'server sees the API key identity')

  await c.createKey('aistor-key-manager', 'aistor-key-manager-hsm')
  t.equal(srv.requests[1]?.url, '/v1/kms/aistor-key-manager')
  t.equal(srv.requests[1]?.body.subarray(6).toString('hex'), PAYLOAD_VECTORS[1].hex)

  const enc = await c.encrypt('aistor-key-manager', 'aistor-key-manager-hsm', Buffer.from('0123456789abcdef0123456789abcdef'), { associatedData: Buffer.from('rek') })
  t.equal(srv.requests[2]?.body.subarray(6).toString('hex'), PAYLOAD_VECTORS[2].hex, 'EncryptRequest bytes match protoc')
  t.equal(enc.version, 1)
  t.equal(Buffer.from(enc.ciphertext).toString(), 'fedcba9876543210fedcba9876543210')
  const plain = await c.decrypt('aistor-key-manager', 'aistor-key-manager-hsm', enc.ciphertext, { version: 1, associatedData: Buffer.from('rek') })
  t.equal(Buffer.from(plain).toString(), '0123456789abcdef0123456789abcdef')

  const dek = await c.generateKey('e', 'k', { length: 16 })
  t.same({ version: dek.version, plaintext: dek.plaintext.length, ciphertext: Buffer.from(dek.ciphertext).toString() }, { version: 2, plaintext: 16, ciphertext: 'ct' })

  t.same(await c.keyStatus('e', 'k'), { name: 'k', version: 3, type: 'AES256', createdBy: IDENTITY, createdAt: CREATED })
  t.same(await c.listKeys('e', { prefix: 'a', limit: 10 }), { items: [{ name: 'a', version: 1, type: 'ChaCha20', createdBy: '' }], continueAt: 'b' })
  t.same(decodeRequest(Command.KeyList, decodeFrames(srv.requests.at(-1)?.body ?? Buffer.alloc(0))[0]?.payload ?? Buffer.alloc(0)), { prefix: 'a', continueAt: '', limit: 10 })
  t.same(await c.enclaveStatus('e1'), { name: 'e1', createdBy: IDENTITY })
  t.same(await c.listEnclaves(), { items: [{ name: 'e1', createdBy: '', createdAt: CREATED }], continueAt: '' })

  await c.createIdentity('e', { identity: 'h1:Vic9BzjKXEheV-bgEy2INHJt56TepoTZ_4Y32IqE9Ok', privilege: 'Admin' })
  t.equal(srv.requests.at(-1)?.body.subarray(6).toString('hex'), PAYLOAD_VECTORS[4].hex, 'CreateIdentityRequest bytes match protoc')
  t.same(await c.identityStatus('e', IDENTITY), {
    identity: IDENTITY, privilege: 'Admin', policy: '', createdBy: '', isServiceAccount: false, serviceAccounts: [], tags: { team: 'ops' }, createdAt: CREATED
  })
  t.equal((await c.listIdentities('e')).items[0]?.privilege, 'SysAdmin')

  const cluster = await c.clusterStatus()
  t.same(cluster.nodesDown, { 2: 'node3:7373' })
  t.match(cluster.nodesUp[0], { host: 'node1:7373', role: 'Leader', upTimeMs: 90_000, commit: 12, leaderId: 0, nodes: { 0: 'node1:7373', 2: 'node3:7373' }, hsms: ['hsm:minio:soft'], configuredHsms: ['hsm:minio:soft'] })
  t.equal(srv.requests.at(-1)?.url, '/v1/kms/')

  await c.addNode('node4:7373')
  await c.addHsm('hsm:minio:minkms', { overwrite: true })
  await c.removeHsm('hsm:minio:soft')
  const last = srv.requests.slice(-3).map(r => decodeFrames(r.body)[0])
  t.same(last.map(f => f?.command), [Command.ClusterAddNode, Command.ClusterAddHsm, Command.ClusterRemoveHsm])
  t.same(decodeRequest(Command.ClusterAddHsm, last[1]?.payload ?? Buffer.alloc(0)), { name: 'hsm:minio:minkms', overwrite: true })
  t.ok(srv.requests.every(r => r.identity === IDENTITY), 'every request carried the client certificate')
})

t.test('each API key kind authenticates as its identity', async t => {
  const srv = await startKmsServer(t, pki, answer)
  for (const v of KEY_VECTORS) {
    const c = client(t, { endpoints: [srv.endpoint], apiKey: v.key })
    await c.createEnclave('x')
    t.equal(srv.requests.at(-1)?.identity, v.identity, `${v.kind} ${v.curve ?? 'Ed25519'}`)
  }
  const anonymous = createMinkmsClient({ endpoints: [srv.endpoint], ca: pki.caPem })
  t.teardown(() => anonymous.close())
  t.equal(anonymous.identity, undefined)
  t.equal(await anonymous.live(), true)
  t.equal(srv.requests.at(-1)?.identity, undefined, 'no API key: no client certificate')
})

t.test('version and health probes', async t => {
  let json = false
  const srv = await startKmsServer(t, pki, (req, res) => {
    if (req.url === '/version' && json) return reply(res, 200, 'application/json; charset=utf-8', JSON.stringify({ version: 'v', commit: 'c', api_version: 'v1', host: 'h:1', fips140: true }))
    answer(req, res)
  })
  const c = client(t, { endpoints: [srv.endpoint] })
  t.same(await c.version(), { version: '2025-11-12T19-14-51Z', commit: 'affbaed', apiVersion: 'v1', host: 'node1:7373', fips140: false })
  json = true
  t.same(await c.version(), { version: 'v', commit: 'c', apiVersion: 'v1', host: 'h:1', fips140: true })
  t.equal(await c.live(), true)
  t.equal(await c.ready(), true)
  t.equal(await c.ready({ write: true }), false, 'non-200 is false')
  t.same(srv.requests.slice(-3).map(r => r.url), ['/v1/health/live', '/v1/health/ready', '/v1/health/ready?write'])

  const dead = client(t, { endpoints: [await deadEndpoint()] })
  await t.rejects(dead.live(), MinkmsUnreachableError, 'network error rejects')
  await t.rejects(dead.ready({ write: true }), { code: 'SHR_MINKMS_UNREACHABLE' })
})

t.test('server errors map to typed errors by Content-Type', async t => {
  const answers: Array<[number, string, Uint8Array | string]> = [
    [403, OCTET, encodeMessage('ErrResponse', { message: 'access denied: insufficient permissions' })],
    [404, 'application/json', JSON.stringify({ message: 'key does not exist' })],
    [409, 'text/plain; charset=utf-8', 'enclave already exists\n'],
    [403, 'application/json', '{"message":"access denied: insufficient permissions"}'],
    [500, 'text/html', 'x'.repeat(20_000)],
    [502, OCTET, Buffer.from('0a05ab', 'hex')]
  ]
  let i = 0
  const srv = await startKmsServer(t, pki, (_req, res) => {
    const [status, type, body] = answers[i++] ?? [500, 'text/plain', 'unexpected']
    reply(res, status, type, body)
  })
  const c = client(t, { endpoints: [srv.endpoint] })

  const denied = await c.createEnclave('e').catch((e: unknown) => e)
  t.ok(denied instanceof PermissionDeniedError, 'protobuf ErrResponse 403')
  t.ok(isPermissionDenied(denied))
  t.match(denied, { statusCode: 403, code: 'SHR_MINKMS_PERMISSION_DENIED', message: 'access denied: insufficient permissions', host: srv.endpoint })
  await t.rejects(c.keyStatus('e', 'missing'), KeyNotFoundError, 'JSON 404')
  await t.rejects(c.createEnclave('e'), EnclaveExistsError, 'text 409')
  await t.rejects(c.listKeys('e'), PermissionDeniedError, 'JSON 403')
  const big = await c.listKeys('e').catch((e: unknown) => e)
  t.ok(big instanceof MinkmsRequestError)
  t.equal((big as MinkmsRequestError).statusCode, 500)
  t.equal((big as MinkmsRequestError).message.length, 5 * 1024, 'at most 5 KB of an error body is read')
  await t.rejects(c.listKeys('e'), { statusCode: 502, code: 'SHR_MINKMS_REQUEST_FAILED' }, 'undecodable protobuf falls back to text')
  t.equal(srv.requests.length, answers.length, 'no retries on server answers')
})

t.test('failover: network errors move on, server answers do not', async t => {
  const good = await startKmsServer(t, pki, answer)
  const dead = await deadEndpoint()
  const c = client(t, { endpoints: [dead, good.endpoint] })
  await c.createEnclave('e')
  t.equal(good.requests.length, 1, 'write retried on the second endpoint after connection refused')
  t.equal((await c.version()).host, 'node1:7373')

  const denying = await startKmsServer(t, pki, (_req, res) => reply(res, 403, OCTET, encodeMessage('ErrResponse', { message: 'access denied: insufficient permissions' })))
  const other = await startKmsServer(t, pki, answer)
  const c2 = client(t, { endpoints: [denying.endpoint, other.endpoint] })
  await t.rejects(c2.enclaveStatus('e'), PermissionDeniedError)
  t.equal(other.requests.length, 0, '4xx is final')

  const c3 = client(t, { endpoints: [dead, await deadEndpoint()] })
  const err = await c3.listKeys('e').catch((e: unknown) => e) as MinkmsUnreachableError
  t.ok(err instanceof MinkmsUnreachableError)
  t.equal(err.failures.length, 2, 'both endpoints tried')
  t.match(err.message, /ECONNREFUSED/)
  t.ok(err.cause instanceof AggregateError)
})

t.test('failover visits each endpoint once even when concurrent requests move the preferred one', async t => {
  // ep0 cuts its first request late and later ones at once; ep1 works; ep2 is dead. Request A is
  // still on ep0 when request B fails over to ep1 and makes it preferred: A must go on to ep1
  // (the next after its own start), not to ep2 and back to ep0.
  let first = true
  const ep0 = await startKmsServer(t, pki, async (_req, res) => {
    if (first) {
      first = false
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    res.socket?.destroy()
  })
  const ep1 = await startKmsServer(t, pki, answer)
  const c = client(t, { endpoints: [ep0.endpoint, ep1.endpoint, await deadEndpoint()] })
  const a = c.keyStatus('e', 'k')
  while (ep0.requests.length === 0) await new Promise((resolve) => setImmediate(resolve))
  const b = await c.keyStatus('e', 'k')
  t.equal(b.name, 'k', 'B failed over to ep1')
  t.equal((await a).name, 'k', 'A reached ep1 too')
  t.equal(ep0.requests.length, 2, 'ep0 tried once by each request')
  t.equal(ep1.requests.length, 2, 'ep1 answered both')
})

t.test('a write that may have reached a node is not replayed on another', async t => {
  const cutting = await startKmsServer(t, pki, (_req, res) => { res.socket?.destroy() })
  const other = await startKmsServer(t, pki, answer)
  const c = client(t, { endpoints: [cutting.endpoint, other.endpoint] })
  const err = await c.createKey('e', 'k').catch((e: unknown) => e) as MinkmsUnreachableError
  t.ok(err instanceof MinkmsUnreachableError)
  t.equal(err.failures.length, 1)
  t.equal(cutting.requests.length, 1)
  t.equal(other.requests.length, 0, 'write not replayed')
  const status = await c.keyStatus('e', 'k')
  t.equal(status.name, 'k', 'a read is retried on the next endpoint')
  t.equal(other.requests.length, 1)
})

t.test('server certificate verification', async t => {
  const srv = await startKmsServer(t, pki, answer)

  const wrongCa = client(t, { endpoints: [srv.endpoint], ca: pki.otherCaPem })
  const err = await wrongCa.createEnclave('e').catch((e: unknown) => e) as MinkmsUnreachableError
  t.ok(err instanceof MinkmsUnreachableError)
  t.match(err.message, /unable to verify the first certificate|unable to get local issuer certificate/)
  t.match(err.cause, { code: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/ })
  t.equal(srv.requests.length, 0, 'nothing was sent to an unverified server')

  const systemStore = createMinkmsClient({ endpoints: [srv.endpoint], apiKey: API_KEY })
  t.teardown(() => systemStore.close())
  await t.rejects(systemStore.live(), MinkmsUnreachableError, 'no ca: the test CA is not in the default store')

  const skip = client(t, { endpoints: [srv.endpoint], ca: pki.otherCaPem, insecureSkipVerify: true })
  t.equal(await skip.live(), true, 'insecureSkipVerify accepts any server certificate')

  const bundle = client(t, { endpoints: [srv.endpoint], ca: [pki.otherCaPem, pki.caPem] })
  t.equal(await bundle.live(), true, 'a CA list works')

  const byName = client(t, { endpoints: [`https://localhost:${srv.port}`] })
  t.equal(await byName.live(), true, 'https URL with a DNS name verifies against the SAN')

  const wrongName = client(t, { endpoints: [srv.endpoint], servername: 'other.example' })
  await t.rejects(wrongName.live(), { code: 'SHR_MINKMS_UNREACHABLE', message: /ERR_TLS_CERT_ALTNAME_INVALID/ })
})

t.test('responses that break the protocol', async t => {
  let mode = ''
  const srv = await startKmsServer(t, pki, (req, res) => {
    const body = encodeFrames([encodeResponseFrame(Command.KeyStatus, { name: 'k', type: 'AES256' })])
    if (mode === 'chunked') {
      res.writeHead(200, { 'content-type': OCTET })
      res.write(body)
      res.end()
    } else if (mode === 'two frames') {
      reply(res, 200, OCTET, Buffer.concat([body, body]))
    } else if (mode === 'other command') {
      reply(res, 200, OCTET, encodeFrames([{ command: Command.KeyList, payload: new Uint8Array() }]))
    } else if (mode === 'bad type') {
      reply(res, 200, OCTET, encodeFrames([encodeResponseFrame(Command.KeyStatus, { name: 'k', type: 'RSA' })]))
    } else if (mode === 'bad privilege') {
      reply(res, 200, OCTET, encodeFrames([encodeResponseFrame(Command.IdentityStatus, { identity: 'h1:x', privilege: 9 })]))
    } else if (mode === 'truncated') {
      reply(res, 200, OCTET, body.subarray(0, body.length - 1))
    } else if (mode === 'version text') {
      reply(res, 200, 'text/plain', 'v1')
    } else {
      answer(req, res)
    }
  })
  const c = client(t, { endpoints: [srv.endpoint] })
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['chunked', async () => await c.keyStatus('e', 'k'), /no Content-Length/],
    ['two frames', async () => await c.keyStatus('e', 'k'), /expected 1 response frame\(s\).*got 2/],
    ['other command', async () => await c.keyStatus('e', 'k'), /including KEY:LIST/],
    ['bad type', async () => await c.keyStatus('e', 'k'), /key type 'RSA' is not supported/],
    ['bad privilege', async () => await c.identityStatus('e', 'h1:x'), /unknown privilege 9/],
    ['truncated', async () => await c.keyStatus('e', 'k'), /truncated frame payload/],
    ['version text', async () => await c.version(), /unsupported Content-Type text\/plain/]
  ]
  for (const [m, call, message] of cases) {
    mode = m
    await t.rejects(call(), MinkmsProtocolError, m)
    await t.rejects(call(), { code: 'SHR_MINKMS_PROTOCOL', message }, m)
  }
  mode = 'chunked'
  await c.createKey('e', 'k')
  t.pass('write responses are not parsed, so chunked 200s are accepted there')
})

t.test('a silent server times out as unreachable', async t => {
  const srv = await startKmsServer(t, pki, () => { /* never answers */ })
  const c = client(t, { endpoints: [srv.endpoint], timeoutMs: 300 })
  const err = await c.listKeys('e').catch((e: unknown) => e)
  t.ok(err instanceof MinkmsUnreachableError)
  t.match((err as Error).message, /SHR_HTTP_HEADERS_TIMEOUT/)
})

t.test('send() passes raw batches through', async t => {
  const srv = await startKmsServer(t, pki, answer)
  const c = client(t, { endpoints: [srv.endpoint] })
  const payloads = ['a', 'b', 'c'].map(name => encodeMessage('KeyStatusRequest', { name }))
  const out = await c.send(Command.KeyStatus, 'e', payloads)
  t.equal(out.length, 3)
  t.equal(decodeFrames(srv.requests[0]?.body ?? Buffer.alloc(0)).length, 3, 'one request with three frames')
  t.same(await c.send(Command.EnclaveCreate, 'ignored', [encodeMessage('CreateEnclaveRequest', { name: 'x' })]), [])
  t.equal(srv.requests[1]?.url, '/v1/kms/', 'cluster commands ignore the enclave')
})

t.test('configuration errors and close', async t => {
  t.throws(() => createMinkmsClient({ endpoints: [] }), { code: 'SHR_MINKMS_INVALID_CONFIG' })
  t.throws(() => createMinkmsClient({ endpoints: ['http://127.0.0.1:7373'] }), { message: /must use https/ })
  t.throws(() => createMinkmsClient({ endpoints: ['https://h:1/path'] }), { code: 'SHR_MINKMS_INVALID_CONFIG' })
  t.throws(() => createMinkmsClient({ endpoints: ['h:1'], timeoutMs: 0 }), { code: 'SHR_MINKMS_INVALID_CONFIG' })
  const badKey = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8Bshk'
  const err = t.throws(() => createMinkmsClient({ endpoints: ['h:1'], apiKey: badKey }), InvalidApiKeyError) as Error
  t.notMatch(err.message, badKey.slice(3))

  const srv = await startKmsServer(t, pki, answer)
  const c = createMinkmsClient({ endpoints: [srv.endpoint, srv.endpoint, `127.0.0.1:${srv.port}`], apiKey: API_KEY, ca: pki.caPem })
  t.equal(await c.live(), true)
  await c.close()
  await c.close()
  await t.rejects(c.live(), { code: 'SHR_MINKMS_INVALID_CONFIG', message: /closed/ })
})

t.test('the client certificate is renewed before it expires', async t => {
  const srv = await startKmsServer(t, pki, answer)
  let now = Date.parse('2025-01-01T00:00:00Z')
  const transport = new MinkmsTransport({ endpoints: parseEndpoints([srv.endpoint]), apiKey: parseApiKey(API_KEY), ca: pki.caPem, timeoutMs: 5000, now: () => now })
  t.teardown(() => transport.close())
  await transport.command(Command.EnclaveCreate, '', [new Uint8Array()])
  await transport.command(Command.EnclaveCreate, '', [new Uint8Array()])
  now += 84 * 86_400_000
  await transport.command(Command.EnclaveCreate, '', [new Uint8Array()])
  const serials = srv.requests.map(r => r.certSerial)
  t.equal(serials[0], serials[1], 'same certificate while valid')
  t.not(serials[2], serials[0], 'a new certificate within a week of expiry')
  t.ok(srv.requests.every(r => r.identity === IDENTITY), 'same identity')
})
