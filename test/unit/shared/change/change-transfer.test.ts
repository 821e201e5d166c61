import t from 'tap'
import { decodeChange, encodeChange } from '../../../../shared/change/change-transfer.js'
import { toChangeSpec } from '../../../../shared/change/change.js'
import { validateChange } from '../../../../shared/change/validate-change.js'
import { isSecret } from '../../../../shared/secrets/secret.js'

const KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'
const CHANGE = validateChange({
  revision: 4,
  files: {
    config: { set: { 'z.last': 1, 10: 'ten', 'hsm.minio.minkms': { server: ['a:7373', 'b:7373'], auth: { key: { $secret: KEY } }, on: true, none: null } }, delete: ['x.y'], mode: '0640' },
    env: { set: { MINIO_KMS_TOKEN: 'plain-but-secret-by-name', MINIO_KMS_VOLUME: '/mnt' }, unset: ['OLD'] }
  },
  restart: 'never',
  verify: { deadline: '30s', stableFor: '1s' }
})

t.test('a change survives structured clone as its transfer form, secrets included', async t => {
  const back = decodeChange(structuredClone(encodeChange(CHANGE)))
  t.same(toChangeSpec(back), toChangeSpec(CHANGE), 'same spec, secrets revealed')
  t.equal(JSON.stringify(toChangeSpec(back)), JSON.stringify(toChangeSpec(CHANGE)), 'same key order')
  t.equal(JSON.stringify(back), JSON.stringify(CHANGE), 'same masked JSON')
  const auth = (back.files.config?.set['hsm.minio.minkms'] as { auth: { key: unknown } }).auth.key
  t.ok(isSecret(auth), 'the API key is a Secret again')
  t.ok(isSecret(back.files.env?.set.MINIO_KMS_TOKEN), 'a secret by name stays a Secret')
  t.notOk(JSON.stringify(back).includes(KEY), 'and serialises masked')
  t.ok(Object.isFrozen(back) && Object.isFrozen(back.files.config?.set), 'frozen')
  t.equal(back.files.config?.mode, 0o640)
  t.same(back.verify, { deadlineMs: 30_000, stableForMs: 1000 })
})

t.test('a change without files or modes crosses as it is', async t => {
  const bare = validateChange({ revision: 1, files: {} })
  t.same(toChangeSpec(decodeChange(structuredClone(encodeChange(bare)))), toChangeSpec(bare))
})

t.test('an env value that is not a string or a secret is refused', async t => {
  const t0 = encodeChange(validateChange({ revision: 1, files: { env: { set: { A: 'x' } } } }))
  const bad = { ...t0, files: { env: { set: [['A', { kind: 'list', items: [] }] as const], unset: [] } } }
  t.throws(() => decodeChange(bad), /env value crossed as list/)
})
