import t from 'tap'
import { Value } from 'typebox/value'
import { changeSecrets, toChangeSpec } from '../../../../shared/change/change.js'
import { describeChange, redactChange } from '../../../../shared/change/redact-change.js'
import { ChangeSpecSchema, ChangeViewSchema } from '../../../../shared/change/schema.js'
import { validateChange } from '../../../../shared/change/validate-change.js'
import { maskSecret } from '../../../../shared/secrets/fingerprint.js'

const K1 = 'k1:XyTL0XrjcoTYxPbiWQpxA_HOc8PJWhgRU-TGqTRszmI'
const HSM = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='
const SPEC = {
  revision: 7,
  files: {
    config: { set: { 'hsm.minio.minkms': { server: ['a:1'], enclave: 'e', key: 'k', auth: { key: { $secret: K1 } } } }, delete: ['old.section'] },
    env: { set: { MINIO_KMS_HSM_KEY: HSM, MINIO_KMS_VOLUME: '/mnt/minio-kms' }, unset: ['LEGACY'] }
  },
  restart: 'always',
  verify: { deadline: '2m', stableFor: '10s' }
}

t.test('the view masks every secret with its fingerprint and keeps the rest', async t => {
  const change = validateChange(SPEC)
  const view = redactChange(change, 'fp-key')
  t.same(view, {
    revision: 7,
    files: {
      config: { set: { 'hsm.minio.minkms': { server: ['a:1'], enclave: 'e', key: 'k', auth: { key: maskSecret(K1, 'fp-key') } } }, delete: ['old.section'] },
      env: { set: { MINIO_KMS_HSM_KEY: maskSecret(HSM, 'fp-key'), MINIO_KMS_VOLUME: '/mnt/minio-kms' }, unset: ['LEGACY'] }
    },
    restart: 'always',
    verify: { deadline: '120s', stableFor: '10s' },
    redacted: true
  })
  const json = JSON.stringify(view)
  t.notMatch(json, K1.slice(3))
  t.notMatch(json, HSM.slice(11))
  t.ok(Value.Check(ChangeViewSchema, view), 'matches the view schema')
  t.notOk(Value.Check(ChangeSpecSchema, view), 'a view is not a spec and cannot be re-applied')
  t.equal(redactChange(change).files.env?.set.MINIO_KMS_HSM_KEY, '***', 'no key: plain ***')
})

t.test('describeChange names paths and variables, never values', async t => {
  const change = validateChange(SPEC)
  t.equal(describeChange(change), 'revision 7: config set hsm.minio.minkms, delete old.section; env set MINIO_KMS_HSM_KEY, MINIO_KMS_VOLUME, unset LEGACY; restart always; verify 120s (stable 10s)')
  t.equal(describeChange(validateChange({ revision: 1, files: {} })), 'revision 1: no file edits; restart on-change; verify 60s (stable 5s)')
})

t.test('toChangeSpec round-trips (and is the one place that reveals)', async t => {
  const change = validateChange(SPEC)
  const wire = toChangeSpec(change)
  t.ok(Value.Check(ChangeSpecSchema, wire))
  t.same(wire.files.env?.set?.MINIO_KMS_HSM_KEY, { $secret: HSM })
  t.same(validateChange(wire), change)
  t.same(changeSecrets(change).map(s => s.reveal()).sort(), [HSM, K1].sort())
})
