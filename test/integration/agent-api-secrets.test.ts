// No secret value in any log line or API response. The HSM
// migration change (an external HSM API key and the local software HSM key) goes through every
// endpoint of a real server; every byte that comes back and every log line is grepped. The
// careless core leaks on purpose (raw change in its log, secrets in event messages, diffs and an
// undeclared status field), so the test also proves the API's own layers: response schemas, the
// response mask, the NDJSON line mask, the error renderer and the logger.
import t, { type Test } from 'tap'
import { Agent, request } from 'undici'
import { buildAgentApp } from '../../agent/app.js'
import { FakeAgentCore, captureLogger, testAgentConfig } from '../helpers/fake-agent-core.js'

const API_KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'
const HSM_KEY = 'hsm:aes256:bWluaW8ta21zLWhzbS1rZXktZm9yLXRlc3RzLW9ubHk='
const SECRETS = [API_KEY, HSM_KEY]

const HSM_CHANGE = {
  revision: 12,
  files: {
    config: {
      set: {
        'hsm.minio.minkms': {
          server: ['kms0.hsm-cluster.example.net:7373', 'kms1.hsm-cluster.example.net:7373'],
          enclave: 'aistor-key-manager',
          key: 'aistor-key-manager-hsm',
          auth: { key: { $secret: API_KEY } }
        }
      }
    },
    env: { set: { MINIO_KMS_HSM_KEY: { $secret: HSM_KEY } } }
  }
}
// The same secrets, unmarked (a spec author forgot !secret), and in a bad change.
const UNMARKED = { revision: 13, files: { env: { set: { MINIO_KMS_HSM_KEY: HSM_KEY, EXTERNAL_KEY: API_KEY } } } }
const BAD = { revision: -1, files: { env: { set: { MINIO_KMS_HSM_KEY: HSM_KEY } } }, note: API_KEY }

for (const leaky of [false, true]) {
  t.test(`${leaky ? 'a careless' : 'a well-behaved'} core: nothing leaks`, async (t: Test) => {
    const { logger, lines } = captureLogger('trace')
    const core = new FakeAgentCore({ logger, leaky })
    const app = buildAgentApp({ core, config: testAgentConfig(), logger })
    t.teardown(() => app.close())
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const dispatcher = new Agent()
    t.teardown(() => dispatcher.close())
    const bodies: string[] = []
    const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<number> => {
      const res = await request(`${base}${path}`, {
        method,
        dispatcher,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      })
      bodies.push(`${JSON.stringify(res.headers)}\n${await res.body.text()}`)
      return res.statusCode
    }

    core.journal.push({ message: `minkms: loaded HSM key ${HSM_KEY}` })
    t.equal(await call('POST', '/v1/plan', HSM_CHANGE), 200)
    t.equal(await call('POST', '/v1/apply', HSM_CHANGE), 200)
    t.equal(await call('POST', '/v1/apply?check=1', UNMARKED), 200)
    core.scripts.push({ result: 'rolled-back' })
    t.equal(await call('POST', '/v1/apply', UNMARKED), 200)
    t.equal(await call('POST', '/v1/plan', BAD), 400)
    t.equal(await call('POST', '/v1/apply', BAD), 400)
    t.equal(await call('GET', '/v1/status'), 200)
    t.equal(await call('GET', '/v1/journal'), 200)
    t.equal(await call('GET', `/v1/journal?after=${encodeURIComponent(API_KEY)}`), 400, 'not a cursor: refused before journalctl')
    t.equal(await call('GET', `/nope/${API_KEY}`), 404)
    t.equal(await call('GET', '/metrics'), 200)

    const everything = [...bodies, ...lines]
    t.ok(lines.length > 10, 'there are log lines to check')
    for (const secret of SECRETS) {
      const hits = everything.filter(s => s.includes(secret))
      t.same(hits, [], `${secret.slice(0, 11)}… appears nowhere`)
    }
    t.ok(bodies.some(b => b.includes('MINIO_KMS_HSM_KEY=***')), 'the diff shows the variable, masked')
    if (leaky) t.ok(lines.some(l => l.includes('"msg":"change received"')), 'the careless core did log the change')
  })
}
