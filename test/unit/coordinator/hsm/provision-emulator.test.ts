// Provisioning against a real in-process emulator on loopback (TLS, the binary /v1/kms protocol,
// the emulator's authorisation): the first run creates, the second run with the kept key creates
// nothing, the identity made really is Admin of the enclave (it can use the key), a wrong admin
// key is refused with nothing created, and a stopped server is named.
import t from 'tap'
import type { CommandEvent } from '../../../lab/emulator/http-server.js'
import { provisionExternalHsmAt } from '../../../../coordinator/hsm/provision.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { clientFor, startNode, testEnv } from '../../lab/emulator/helpers/harness.js'

const REQ = { enclave: 'aistor-key-manager', key: 'aistor-key-manager-hsm' }
const WRITES = /^(ENCLAVE|IDENTITY|KEY):(CREATE|DELETE)$/

t.test('provisioning the external Key Manager, twice', async (t) => {
  const env = await testEnv(t)
  const events: CommandEvent[] = []
  const ext = await startNode(env, { onCommand: (e) => events.push(e) })
  const target = { servers: [ext.emu.host], ca: env.pki.caPem, adminKey: ext.emu.rootApiKey, timeoutMs: 3000 }

  const first = await provisionExternalHsmAt(target, REQ)
  t.same([first.enclave, first.identity, first.key], ['created', 'created', 'created'])
  const writes = (): string[] => events.filter((e) => WRITES.test(e.command) && e.status === 200).map((e) => e.command)
  t.same(writes(), ['ENCLAVE:CREATE', 'IDENTITY:CREATE', 'KEY:CREATE'])

  const asAdmin = clientFor(env, ext.emu.host, first.apiKey.reveal())
  const sealed = await asAdmin.encrypt(REQ.enclave, REQ.key, Buffer.from('rek'))
  t.same(Buffer.from(await asAdmin.decrypt(REQ.enclave, REQ.key, sealed.ciphertext, { version: sealed.version })).toString(), 'rek',
    'the identity made is Admin of the enclave: it can use the key')

  events.length = 0
  const second = await provisionExternalHsmAt(target, { ...REQ, apiKey: first.apiKey })
  t.same([second.enclave, second.identity, second.key], ['found', 'found', 'found'])
  t.same(events.filter((e) => WRITES.test(e.command)).map((e) => e.command), [], 'the second run sent no write at all')
  t.ok(events.length > 0, 'but it did ask')
  t.notMatch(ext.logs.text(), first.apiKey.reveal(), 'the generated key is in no emulator log line')
})

t.test('a wrong admin key: refused, nothing created', async (t) => {
  const env = await testEnv(t)
  const events: CommandEvent[] = []
  const ext = await startNode(env, { onCommand: (e) => events.push(e) })
  const stranger = generateApiKey('k1')
  const err = await provisionExternalHsmAt({ servers: [ext.emu.host], ca: env.pki.caPem, adminKey: stranger.key, timeoutMs: 3000 }, REQ).catch((e: unknown) => e)
  t.match(err, { code: 'CRD_HSM_ADMIN_KEY_REFUSED', message: new RegExp(`refused the admin API key \\(identity ${stranger.identity}\\): access denied: insufficient permissions; give a root/SysAdmin API key .*nothing was created$`) })
  t.notMatch((err as Error).message, stranger.key)
  t.same(events.map((e) => `${e.command} ${e.status}`), ['ENCLAVE:STATUS 403'], 'one refused read, no write')
  const root = clientFor(env, ext.emu.host, ext.emu.rootApiKey)
  t.same((await root.listEnclaves()).items.map((e) => e.name).filter((n) => n === REQ.enclave), [], 'no enclave was made')
})

t.test('a stopped server: CRD_HSM_EXTERNAL_UNREACHABLE naming it', async (t) => {
  const env = await testEnv(t)
  const ext = await startNode(env)
  const host = ext.emu.host
  await ext.emu.close()
  const err = await provisionExternalHsmAt({ servers: [host], ca: env.pki.caPem, adminKey: generateApiKey().key, timeoutMs: 2000 }, REQ).catch((e: unknown) => e)
  t.match(err, { code: 'CRD_HSM_EXTERNAL_UNREACHABLE', message: new RegExp(`is unreachable: .*${host.replace('.', '\\.')}.*ECONNREFUSED`) })
})
