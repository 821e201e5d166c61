// The HTTPS server of one node: banner, probes, every supported command with minkms's exact error
// texts, authorisation, and persistence across restarts. Nodes run in-process on 127.0.0.1:0.
import { request } from 'node:https'
import t from 'tap'
import { Command } from '../../../../shared/minkms/commands.js'
import { encodeRequestFrame } from '../../../../shared/minkms/command-messages.js'
import { encodeFrames } from '../../../../shared/minkms/frames.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { decodeMessage } from '../../../../shared/minkms/messages.js'
import { deriveRootApiKey } from '../../../lab/emulator/root-key.js'
import { clientFor, startNode, testEnv, TEST_HSM_KEY } from './helpers/harness.js'

/** A raw POST, for what the client cannot send (malformed bodies, Accept variants). */
async function rawPost (ca: string, host: string, path: string, body: Buffer, accept: string): Promise<{ status: number, type: string, length: string | undefined, body: Buffer }> {
  const [hostname = '', port = ''] = host.split(':')
  return await new Promise((resolve, reject) => {
    const req = request({ hostname, port: Number(port), path, method: 'POST', ca, agent: false, headers: { Accept: accept, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), length: res.headers['content-length'], body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('banner, probes and version', async (t) => {
  const env = await testEnv(t)
  const { emu, logs } = await startNode(env)
  const lines = logs.lines
  t.match(lines[0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO {2}Starting server instance\.\.\.$/)
  const at = lines.indexOf('')
  const banner = lines.slice(at)
  t.same(banner.map((l) => l.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, 'UUID')), [
    '',
    `Version        2025-11-12T19-14-51Z commit=${'e'.repeat(40)}`,
    'HSM            hsm:minio:soft',
    'Cluster        ID      UUID',
    `               Node 0: ${emu.host} <-`,
    '',
    'Documentation  Web: https://docs.min.io/enterprise/aistor-key-manager',
    '               CLI: $ minkms help',
    '',
    `Endpoint       https://${emu.host}`,
    `API Key        ${emu.rootApiKey}`,
    '',
    '=> Server is up and running...'
  ])
  t.equal(emu.rootApiKey, deriveRootApiKey(Buffer.alloc(32, 0x42)), 'root key derived from the HSM key')
  t.equal(emu.host, `127.0.0.1:${emu.port}`)
  t.notMatch(logs.text(), TEST_HSM_KEY.slice(11), 'the HSM key is never logged')

  const anon = clientFor(env, emu.host)
  t.equal(await anon.live(), true)
  t.equal(await anon.ready(), true)
  t.equal(await anon.ready({ write: true }), true, 'a one-node cluster has its write quorum')
  t.same(await anon.version(), { version: '2025-11-12T19-14-51Z', commit: 'e'.repeat(40), apiVersion: 'v1', host: emu.host, fips140: false })
})

t.test('enclaves, identities, keys and crypto with exact errors', async (t) => {
  const env = await testEnv(t)
  const { emu } = await startNode(env)
  const root = clientFor(env, emu.host, emu.rootApiKey)

  await root.createEnclave('aistor-key-manager')
  await t.rejects(root.createEnclave('aistor-key-manager'), { statusCode: 409, message: 'enclave already exists' })
  await t.rejects(root.enclaveStatus('nope'), { statusCode: 404, message: 'enclave does not exist' })
  const es = await root.enclaveStatus('aistor-key-manager')
  t.equal(es.createdBy, emu.rootIdentity)
  t.same((await root.listEnclaves()).items.map((e) => e.name), ['aistor-key-manager'])

  const admin = generateApiKey('k2')
  await root.createIdentity('aistor-key-manager', { identity: admin.identity, privilege: 'Admin' })
  await t.rejects(root.createIdentity('aistor-key-manager', { identity: admin.identity, privilege: 'Admin' }), { statusCode: 409, message: 'identity already exists' })
  t.match(await root.identityStatus('aistor-key-manager', admin.identity), { identity: admin.identity, privilege: 'Admin', createdBy: emu.rootIdentity })
  await t.rejects(root.identityStatus('aistor-key-manager', generateApiKey().identity), { statusCode: 404, message: 'identity does not exist' })
  await t.rejects(root.createKey('nope', 'k'), { statusCode: 404, message: 'enclave does not exist' })

  const a = clientFor(env, emu.host, admin.key)
  await a.createKey('aistor-key-manager', 'aistor-key-manager-hsm')
  await t.rejects(a.createKey('aistor-key-manager', 'aistor-key-manager-hsm'), { statusCode: 409, message: 'key already exists' })
  await t.rejects(a.keyStatus('aistor-key-manager', 'missing'), { statusCode: 404, message: 'key does not exist' })
  t.match(await a.keyStatus('aistor-key-manager', 'aistor-key-manager-hsm'), { name: 'aistor-key-manager-hsm', version: 1, type: 'AES256', createdBy: admin.identity })
  await t.rejects(a.createEnclave('other'), { statusCode: 403, message: 'access denied: insufficient permissions' }, 'admins cannot create enclaves')
  await t.rejects(a.clusterStatus(), { statusCode: 403, message: 'access denied: insufficient permissions' })
  await t.rejects(a.createIdentity('aistor-key-manager', { identity: generateApiKey().identity, privilege: 'SysAdmin' }), { statusCode: 403, message: 'access denied: insufficient permissions' })

  const ad = Buffer.from('rek')
  const pt = Buffer.from('0123456789abcdef0123456789abcdef')
  const enc = await a.encrypt('aistor-key-manager', 'aistor-key-manager-hsm', pt, { associatedData: ad })
  t.equal(enc.version, 1)
  t.same(Buffer.from(await a.decrypt('aistor-key-manager', 'aistor-key-manager-hsm', enc.ciphertext, { version: 1, associatedData: ad })), pt)
  await t.rejects(a.decrypt('aistor-key-manager', 'aistor-key-manager-hsm', enc.ciphertext, { version: 1 }), { statusCode: 400, message: 'invalid ciphertext' })
  await t.rejects(a.decrypt('aistor-key-manager', 'aistor-key-manager-hsm', Buffer.from([1, 2, 3]), { version: 1, associatedData: ad }), { statusCode: 400, message: 'invalid ciphertext' })
  await t.rejects(a.decrypt('aistor-key-manager', 'aistor-key-manager-hsm', enc.ciphertext, { version: 0, associatedData: ad }), { statusCode: 400, message: /Version must not be 0/ })
  await t.rejects(a.decrypt('aistor-key-manager', 'aistor-key-manager-hsm', enc.ciphertext, { version: 2, associatedData: ad }), { statusCode: 404, message: 'key does not exist' })

  await a.createKey('aistor-key-manager', 'aistor-key-manager-hsm', { addVersion: true })
  const enc2 = await a.encrypt('aistor-key-manager', 'aistor-key-manager-hsm', pt)
  t.equal(enc2.version, 2, 'encrypt uses the latest version')
  t.same(Buffer.from(await a.decrypt('aistor-key-manager', 'aistor-key-manager-hsm', enc.ciphertext, { version: 1, associatedData: ad })), pt, 'old versions still decrypt')
  const g = await a.generateKey('aistor-key-manager', 'aistor-key-manager-hsm', { length: 64 })
  t.equal(g.plaintext.length, 64)
  t.same(await a.decrypt('aistor-key-manager', 'aistor-key-manager-hsm', g.ciphertext, { version: g.version }), g.plaintext)
  await a.createKey('aistor-key-manager', 'chacha', { type: 'ChaCha20' })
  const c = await a.encrypt('aistor-key-manager', 'chacha', pt)
  t.same(Buffer.from(await a.decrypt('aistor-key-manager', 'chacha', c.ciphertext, { version: 1 })), pt)
  const page = await a.listKeys('aistor-key-manager', { limit: 1 })
  t.same(page.items.map((k) => [k.name, k.version]), [['aistor-key-manager-hsm', 2]])
  t.equal(page.continueAt, 'chacha')
  t.same((await a.listKeys('aistor-key-manager', { continueAt: page.continueAt })).items.map((k) => k.name), ['chacha'])

  const user = generateApiKey('k1')
  await a.createIdentity('aistor-key-manager', { identity: user.identity, privilege: 'User' })
  const u = clientFor(env, emu.host, user.key)
  await t.rejects(u.encrypt('aistor-key-manager', 'aistor-key-manager-hsm', pt), { statusCode: 403, message: 'access denied: insufficient permissions' })
  const stranger = clientFor(env, emu.host, generateApiKey().key)
  await t.rejects(stranger.keyStatus('aistor-key-manager', 'aistor-key-manager-hsm'), { statusCode: 403, message: 'access denied: insufficient permissions' })
  await t.rejects(stranger.keyStatus('no-such-enclave', 'x'), { statusCode: 403, message: 'access denied: insufficient permissions' }, 'strangers do not learn which enclaves exist')
})

t.test('batches, malformed bodies and error formats', async (t) => {
  const env = await testEnv(t)
  const { emu } = await startNode(env)
  const root = clientFor(env, emu.host, emu.rootApiKey)
  await root.createEnclave('e')
  await root.createKey('e', 'k')
  const frames = [1, 2, 3].map((i) => encodeRequestFrame(Command.KeyEncrypt, { name: 'k', plaintext: Buffer.from([i]) }).payload)
  const out = await root.send(Command.KeyEncrypt, 'e', frames)
  t.equal(out.length, 3, 'one response frame per request frame')

  // No client certificate: 403, protobuf ErrResponse by default, JSON when preferred.
  const body = encodeFrames([encodeRequestFrame(Command.KeyStatus, { name: 'k' })])
  const proto = await rawPost(env.pki.caPem, emu.host, '/v1/kms/e', body, 'application/*')
  t.equal(proto.status, 403)
  t.equal(proto.type, 'application/octet-stream')
  t.equal(decodeMessage('ErrResponse', proto.body).message, 'access denied: insufficient permissions')
  const json = await rawPost(env.pki.caPem, emu.host, '/v1/kms/e', body, 'application/json')
  t.same({ status: json.status, type: json.type, body: JSON.parse(json.body.toString()) as unknown }, { status: 403, type: 'application/json', body: { message: 'access denied: insufficient permissions' } })
  t.equal(json.length, String(json.body.length), 'explicit Content-Length')

  await t.rejects(root.send(Command.KeyListVersions as never, 'e', [new Uint8Array()]), { statusCode: 400, message: 'KEY:LISTVERSIONS is not supported by the minkms emulator' })
  await t.rejects(root.send(Command.KeyCreate, 'e', [new Uint8Array(), new Uint8Array()]), { statusCode: 400, message: 'KEY:CREATE takes exactly one frame, got 2' })
  await t.rejects(root.send(Command.KeyStatus, 'e', [Buffer.from([0xff, 0xff])]), { statusCode: 400, message: /^malformed KEY:STATUS request/ })
  const unknown = await rawPost(env.pki.caPem, emu.host, '/v1/kms/e', Buffer.from([0x27, 0x0f, 0, 0, 0, 0]), 'application/json')
  t.same(JSON.parse(unknown.body.toString()), { message: 'unknown command 9999' })
  const truncated = await rawPost(env.pki.caPem, emu.host, '/v1/kms/e', Buffer.from([0, 1, 0]), 'application/json')
  t.equal(truncated.status, 400)
  t.match(JSON.parse(truncated.body.toString()), { message: /^malformed request body: truncated frame header/ })
})

t.test('state and root key survive a restart', async (t) => {
  const env = await testEnv(t)
  const first = await startNode(env)
  const root = clientFor(env, first.emu.host, first.emu.rootApiKey)
  await root.createEnclave('e')
  await root.createKey('e', 'k')
  const enc = await root.encrypt('e', 'k', Buffer.from('hello'))
  const st = await root.clusterStatus()
  await first.emu.close()
  t.match(first.logs.lines.at(-1), /INFO {2}Server stopped\. Goodbye\.$/)

  const second = await startNode(env, { dataDir: first.dataDir })
  t.equal(second.emu.rootApiKey, first.emu.rootApiKey)
  t.match(second.logs.text(), /INFO {2}Unsealed root encryption key with HSM hsm:minio:soft/)
  const root2 = clientFor(env, second.emu.host, second.emu.rootApiKey)
  t.same(Buffer.from(await root2.decrypt('e', 'k', enc.ciphertext, { version: enc.version })).toString(), 'hello')
  const st2 = await root2.clusterStatus()
  t.same(Object.keys(st2.nodesUp), ['0'])
  t.not(st2.nodesUp[0]?.host, undefined)
  t.equal(Object.values(st.nodesUp)[0]?.hsms.join(), 'hsm:minio:soft')
})
