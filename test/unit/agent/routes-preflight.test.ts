// POST /v1/preflight/external-kms over the real preflight with an in-memory Key Manager: the API
// key as { $secret } or plain, per-server answers in the wire schema, the key in no answer and no
// log line (also when refused), and the CA problem of the node reported on every server.
import t from 'tap'
import { Value } from 'typebox/value'
import { ExternalKmsPreflight } from '../../../agent/preflight/external-kms-preflight.js'
import type { PreflightClient } from '../../../agent/preflight/external-server-check.js'
import type { MinkmsTrust } from '../../../agent/preflight/minkms-trust.js'
import { MinkmsUnreachableError } from '../../../shared/minkms/errors.js'
import { FakeMinkmsApi } from '../../../shared/minkms/fake-minkms-api.js'
import { generateApiKey } from '../../../shared/minkms/keys.js'
import { ExternalKmsPreflightResultSchema } from '../../../shared/schemas/preflight.js'
import { buildTestAgent } from '../../helpers/fake-agent-core.js'

const KEY = generateApiKey()
const URL = '/v1/preflight/external-kms'

/** kms0 answers; kms1 is down. */
function preflightOf (trust: MinkmsTrust = { source: 'tls.ca', path: '/etc/minkms/certs/CAs', ca: ['PEM'] }): ExternalKmsPreflight {
  const api = new FakeMinkmsApi().seed('e', { keys: ['k'] })
  const clientOf = (opts: { endpoints: string[] }): PreflightClient => ({
    version: async () => {
      if (opts.endpoints[0] === 'kms1:7373') throw new MinkmsUnreachableError([{ host: 'kms1:7373', cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }])
      return await api.version()
    },
    keyStatus: async (e, k) => await api.keyStatus(e, k),
    encrypt: async (e, k, p) => await api.encrypt(e, k, p),
    decrypt: async (e, k, c, o) => await api.decrypt(e, k, c, o),
    close: async () => {}
  })
  return new ExternalKmsPreflight({ node: 'node1', configPath: '/etc/minkms/config.yaml', clientOf, readTrust: async () => trust })
}

const body = (apiKey: unknown, over: Record<string, unknown> = {}): Record<string, unknown> => ({ servers: ['kms0:7373', 'kms1:7373'], enclave: 'e', key: 'k', apiKey, ...over })

t.test('per-server results; the key as $secret or plain, never answered or logged', async (t) => {
  const { app, lines } = await buildTestAgent(t, { preflight: preflightOf() })
  for (const apiKey of [{ $secret: KEY.key }, KEY.key]) {
    const r = await app.inject({ method: 'POST', url: URL, payload: body(apiKey) })
    t.equal(r.statusCode, 200)
    const res = r.json()
    t.ok(Value.Check(ExternalKmsPreflightResultSchema, res), 'matches the wire schema')
    t.match(res, {
      node: 'node1',
      ok: false,
      reachable: 1,
      trust: { source: 'tls.ca', path: '/etc/minkms/certs/CAs' },
      servers: [
        { server: 'kms0:7373', ok: true, checks: { tls: { status: 'ok' }, auth: { status: 'ok' }, roundTrip: { status: 'ok' } } },
        { server: 'kms1:7373', ok: false, checks: { tls: { status: 'failed', reason: /^unreachable: connect ECONNREFUSED/ }, auth: { status: 'skipped' }, roundTrip: { status: 'skipped' } } }
      ]
    })
    t.notMatch(r.body, KEY.key.slice(3), 'the key is not in the answer')
  }
  t.notMatch(lines.join('\n'), KEY.key.slice(3), 'nor in any log line')
})

t.test('refused bodies: 400 without the key', async (t) => {
  const { app, lines } = await buildTestAgent(t, { preflight: preflightOf() })
  const malformed = 'k1:' + 'A'.repeat(20)
  const bad = await app.inject({ method: 'POST', url: URL, payload: body({ $secret: malformed }) })
  t.match(bad.json(), { statusCode: 400, code: 'SHR_MINKMS_INVALID_API_KEY' })
  t.notMatch(bad.body, malformed.slice(3))
  for (const payload of [body({ $secret: KEY.key }, { servers: [] }), body({ $secret: KEY.key }, { extra: KEY.key }), body({ secret: KEY.key }), { ...body(KEY.key), servers: KEY.key }]) {
    const r = await app.inject({ method: 'POST', url: URL, payload })
    t.equal(r.statusCode, 400, 'schema refusal')
    t.equal(r.json().code, 'SHR_VALIDATION')
    t.notMatch(r.body, KEY.key.slice(3), 'the refusal does not echo the key')
  }
  t.notMatch(lines.join('\n'), KEY.key.slice(3))
})

t.test('a CA the node cannot read: every server fails its tls check with why, nothing is asked', async (t) => {
  const { app } = await buildTestAgent(t, { preflight: preflightOf({ source: 'tls.ca', path: 'certs', error: "tls.ca 'certs' is relative; make it absolute" }) })
  const res = (await app.inject({ method: 'POST', url: URL, payload: body({ $secret: KEY.key }) })).json()
  t.match(res, { ok: false, reachable: 0, trust: { source: 'tls.ca', path: 'certs', error: /relative/ } })
  t.same(res.servers.map((s: { checks: { tls: { reason: string } } }) => s.checks.tls.reason), ["tls.ca 'certs' is relative; make it absolute", "tls.ca 'certs' is relative; make it absolute"])
})
