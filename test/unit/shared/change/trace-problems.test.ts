import t from 'tap'
import { parseChangeSpec } from '../../../../shared/change/parse-change-spec.js'
import { traceToSpec } from '../../../../shared/change/trace-problems.js'
import { validateChange } from '../../../../shared/change/validate-change.js'

const SPEC = `revision: 1
files:
  config:
    set:
      hsm.minio.minkms:
        server: [a:1, b]
        enclave: e
        key: k
        auth:
          key: !secret k1:nope
  env:
    set:
      MINIO_KMS_HSM_KEY: !secret hsm:aes256:short
`

t.test("a problem the change caused points at the spec's field and line", async t => {
  const change = parseChangeSpec(SPEC, 'yaml')
  t.same(traceToSpec(change, 'config', { path: 'hsm.minio.minkms.auth.key', message: 'not a valid API key', line: 11 }),
    { path: 'files.config.set.hsm.minio.minkms.auth.key', message: 'not a valid API key', line: 10, column: 11 })
  t.same(traceToSpec(change, 'config', { path: 'hsm.minio.minkms.server[1]', message: 'not host:port', line: 8 }),
    { path: 'files.config.set.hsm.minio.minkms.server[1]', message: 'not host:port', line: 6, column: 23 })
  t.same(traceToSpec(change, 'env', { path: 'MINIO_KMS_HSM_KEY', message: 'too short', line: 3 }),
    { path: 'files.env.set.MINIO_KMS_HSM_KEY', message: 'too short', line: 13, column: 7 })
})

t.test("a problem elsewhere in the file stays the file's", async t => {
  const change = parseChangeSpec(SPEC, 'yaml')
  t.equal(traceToSpec(change, 'config', { path: 'tls.cert', message: 'missing', line: 3 }), undefined)
  t.equal(traceToSpec(change, 'config', { path: 'hsm.minio.minkmsx', message: 'x' }), undefined, 'a prefix of a key is not the key')
  t.equal(traceToSpec(change, 'env', { path: 'OTHER', message: 'x' }), undefined)
})

t.test('a change without a source text: the spec path, no line', async t => {
  const change = validateChange({ revision: 1, files: { config: { set: { 'hsm.minio.minkms': { server: [] } } } } })
  t.same(traceToSpec(change, 'config', { path: 'hsm.minio.minkms.server', message: 'empty', line: 4 }),
    { path: 'files.config.set.hsm.minio.minkms.server', message: 'empty' })
})
