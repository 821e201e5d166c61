// The checks of one external server over an in-memory Key Manager: all pass, a refused key, a
// missing key, an unreachable server and an untrusted certificate (told apart), a wrong round
// trip; the API key is in no reason; the client is always closed.
import t from 'tap'
import { checkExternalServer, type PreflightClient, type PreflightClientFactory, type ServerCheckInput } from '../../../../agent/preflight/external-server-check.js'
import { MinkmsRequestError, MinkmsUnreachableError } from '../../../../shared/minkms/errors.js'
import { FakeMinkmsApi } from '../../../../shared/minkms/fake-minkms-api.js'
import { generateApiKey, parseApiKey } from '../../../../shared/minkms/keys.js'

const KEY = generateApiKey()

function input (api: FakeMinkmsApi, over: Partial<ServerCheckInput> = {}): ServerCheckInput & { closed: number, seen: Array<Parameters<PreflightClientFactory>[0]> } {
  const state = { closed: 0, seen: [] as Array<Parameters<PreflightClientFactory>[0]> }
  const clientOf = (opts: Parameters<PreflightClientFactory>[0]): PreflightClient => {
    state.seen.push(opts)
    return {
      version: async () => await api.version(),
      keyStatus: async (e, k) => await api.keyStatus(e, k),
      encrypt: async (e, k, p) => await api.encrypt(e, k, p),
      decrypt: async (e, k, c, o) => await api.decrypt(e, k, c, o),
      close: async () => { state.closed++ }
    }
  }
  return Object.assign(state, {
    server: 'kms0:7373', enclave: 'e', key: 'k', apiKey: parseApiKey(KEY.key), secret: KEY.key, trustName: "tls.ca '/ca'", ca: ['PEM'], timeoutMs: 1000, clientOf, ...over
  })
}

t.test('all three pass, timed; one client for that server only', async (t) => {
  const api = new FakeMinkmsApi().seed('e', { keys: ['k'] })
  const i = input(api)
  const r = await checkExternalServer(i)
  t.match(r, { server: 'kms0:7373', ok: true, checks: { tls: { status: 'ok' }, auth: { status: 'ok' }, roundTrip: { status: 'ok' } } })
  t.ok(typeof r.checks.tls.ms === 'number' && r.ms >= 0)
  t.same(api.calls.map((c) => c.method), ['version', 'keyStatus', 'encrypt', 'decrypt'])
  t.match(i.seen, [{ endpoints: ['kms0:7373'], ca: ['PEM'], timeoutMs: 1000 }])
  t.equal(i.closed, 1)
})

t.test('a refused key: auth fails naming the identity and what it must be', async (t) => {
  const api = new FakeMinkmsApi().seed('e', { keys: ['k'] })
  api.root = false
  const r = await checkExternalServer(input(api))
  t.match(r, { ok: false, checks: { tls: { status: 'ok' }, auth: { status: 'failed' }, roundTrip: { status: 'skipped' } } })
  t.match(r.checks.auth.reason, `refused the API key (identity ${KEY.identity}) for key 'k' in enclave 'e': access denied: insufficient permissions; the identity must be Admin of that enclave there`)
})

t.test('a missing key: authenticated, the round trip fails saying so', async (t) => {
  const r = await checkExternalServer(input(new FakeMinkmsApi().seed('e')))
  t.match(r, { ok: false, checks: { auth: { status: 'ok' }, roundTrip: { status: 'failed', reason: /key 'k' does not exist in enclave 'e'/ } } })
})

t.test('unreachable and untrusted are told apart', async (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
  const api = new FakeMinkmsApi().failNext('version', new MinkmsUnreachableError([{ host: 'kms0:7373', cause: refused }]))
  const down = await checkExternalServer(input(api))
  t.match(down, { ok: false, checks: { tls: { status: 'failed', reason: /^unreachable: connect ECONNREFUSED/ }, auth: { status: 'skipped' }, roundTrip: { status: 'skipped' } } })

  const untrusted = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
  api.failNext('version', new MinkmsUnreachableError([{ host: 'kms0:7373', cause: new Error('TLS handshake failed', { cause: untrusted }) }]))
  const bad = await checkExternalServer(input(api))
  t.match(bad.checks.tls.reason, /^TLS: the server certificate is not trusted \(verified against tls.ca '\/ca'\): .*unable to verify the first certificate/)
})

t.test('a round trip that returns something else fails; no reason holds the key', async (t) => {
  const api = new FakeMinkmsApi().seed('e', { keys: ['k'] })
  api.decrypt = async () => new Uint8Array(32)
  const r = await checkExternalServer(input(api))
  t.match(r.checks.roundTrip, { status: 'failed', reason: /decrypt returned another plaintext/ })

  const leaky = new FakeMinkmsApi().seed('e', { keys: ['k'] }).failNext('encrypt', new MinkmsRequestError(500, `bad ${KEY.key}`))
  const r2 = await checkExternalServer(input(leaky))
  t.equal(r2.checks.roundTrip.status, 'failed')
  t.notMatch(JSON.stringify(r2), KEY.key)
})
