import t from 'tap'
import { createLogger, maskingDestination, REDACT_PATHS } from '../../../shared/logger.js'
import { Secret } from '../../../shared/secrets/secret.js'

// Realistic shapes: a k1 API key (32-byte seed, base64url), a k2 key and a software HSM key.
const API_KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'
const K2_KEY = 'k2:q0B1BZ069Sk3-pBun983nLbQUOSR_j0ltnkfG4nPrE0'
const HSM_KEY = 'hsm:aes256:bWluaW8ta21zLWhzbS1rZXktZm9yLXRlc3RzLW9ubHk='
// A secret with no recognisable shape: only the redact paths can catch it.
const PLAIN = 'correct-horse-battery-staple'

function capture (): { log: ReturnType<typeof createLogger>, out: () => string, lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = []
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => chunks.push(s) } })
  return {
    log,
    out: () => chunks.join(''),
    lines: () => chunks.join('').trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
  }
}

t.test('keys in messages, format arguments, bindings and error stacks are masked', async t => {
  const { log, out, lines } = capture()
  log.info(`connecting with ${API_KEY}`)
  log.info('hsm key is %s and api key %s', HSM_KEY, K2_KEY)
  log.child({ component: 'apply', leaked: API_KEY }).warn('child line')
  log.error({ err: new Error(`unseal failed for ${HSM_KEY}`) }, 'start failed')
  const text = out()
  for (const s of [API_KEY, K2_KEY, HSM_KEY]) t.notOk(text.includes(s), `${s.slice(0, 6)}… never appears`)
  t.equal(lines().length, 4, 'every line still written')
  t.equal(lines()[0]?.msg, 'connecting with ***')
  t.equal(lines()[2]?.component, 'apply', 'child bindings kept')
  t.match(String((lines()[3]?.err as { stack?: string }).stack), /unseal failed for \*\*\*/)
})

t.test('secret fields are redacted by path even when they do not look like keys', async t => {
  const { log, out, lines } = capture()
  log.info({
    change: {
      files: {
        env: { set: { MINIO_KMS_HSM_KEY: PLAIN, MINIO_KMS_OPTS: PLAIN } },
        config: { set: { 'hsm.minio.minkms': { server: ['kms0:7373'], auth: { key: PLAIN } } } }
      }
    }
  }, 'change received')
  log.info({ env: { MINIO_KMS_HSM_KEY: PLAIN }, req: { headers: { authorization: `Bearer ${PLAIN}` } } }, 'env read')
  log.info({ creds: { password: PLAIN, token: PLAIN, apiKey: PLAIN } }, 'creds')
  log.info({ hsm: { auth: { key: PLAIN } } }, 'nested auth key')
  t.notOk(out().includes(PLAIN), 'the plain secret never appears')
  const [first] = lines()
  t.same((first?.change as { files: { config: { set: Record<string, { server: string[] }> } } }).files.config.set['hsm.minio.minkms']?.server, ['kms0:7373'], 'non-secret siblings survive')
})

t.test('Secret objects serialise as ***', async t => {
  const { log, out } = capture()
  log.info({ value: new Secret(PLAIN), list: [new Secret(API_KEY)] }, 'wrapped')
  t.notOk(out().includes(PLAIN))
  t.notOk(out().includes(API_KEY))
  t.match(out(), /"value":"\*\*\*"/)
})

t.test('the redact list names the required paths', async t => {
  for (const p of ['req.headers.authorization', '*.token', '*.password', 'env.*', 'change.env.*', 'change.files.env.set.*', '*.auth.key', '*.MINIO_KMS_HSM_KEY']) {
    t.ok(REDACT_PATHS.includes(p), p)
  }
  t.ok(Object.isFrozen(REDACT_PATHS))
})

t.test('extra redact paths from the caller are applied', async t => {
  const chunks: string[] = []
  const log = createLogger({ destination: { write: (s: string) => chunks.push(s) }, redact: ['config.db.pass'] })
  log.info({ config: { db: { pass: PLAIN, host: 'h' } } }, 'config')
  t.notOk(chunks.join('').includes(PLAIN))
  t.match(chunks.join(''), /"host":"h"/)
})

t.test('levels below the configured one are not written', async t => {
  const chunks: string[] = []
  const log = createLogger({ level: 'warn', destination: { write: (s: string) => chunks.push(s) } })
  log.info('quiet')
  log.warn('loud')
  t.equal(chunks.length, 1)
})

t.test('maskingDestination masks whatever passes through it', async t => {
  const got: string[] = []
  maskingDestination({ write: (s: string) => got.push(s) }).write(`{"x":"${HSM_KEY}","y":"k1:7373"}\n`)
  t.equal(got[0], '{"x":"***","y":"k1:7373"}\n', 'host:port lookalikes stay')
})
