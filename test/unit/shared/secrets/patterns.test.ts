import t from 'tap'
import { findSecretLikeValues, isSecretConfigPath, isSecretEnvName, looksLikeSecretValue } from '../../../../shared/secrets/patterns.js'

const K1 = 'k1:XyTL0XrjcoTYxPbiWQpxA_HOc8PJWhgRU-TGqTRszmI'
const K2 = 'k2:bQUODAKbVSj2PYWP5rBWTvuVnAbS7ktaAs2XsGScRwI'
const HSM = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='

t.test('API keys and HSM keys are recognised, inside text too', async t => {
  for (const v of [K1, K2, HSM, `--api-key ${K1}`, `MINIO_KMS_HSM_KEY=${HSM}`]) t.ok(looksLikeSecretValue(v), v)
  t.same(findSecretLikeValues(`a ${K1} b "${HSM}" c ${K2}`), [K1, HSM, K2])
})

t.test('host:port, identities and short strings are not keys', async t => {
  for (const v of ['k1:7373', 'kms0.example.net:7373', 'h1:Vic9BzjKXEheV-bgEy2INHJt56TepoTZ_4Y32IqE9Ok', 'hsm:minio:soft', 'k1:', 'xk1:XyTL0XrjcoTYxPbiWQpxA_HOc8PJWhgRU']) {
    t.notOk(looksLikeSecretValue(v), v)
  }
  t.same(findSecretLikeValues('nothing here'), [])
})

t.test('secret variable names', async t => {
  for (const n of ['MINIO_KMS_HSM_KEY', 'MINIO_KMS_API_KEY', 'DB_PASSWORD', 'GH_TOKEN', 'client_secret', 'AWS_CREDENTIALS']) t.ok(isSecretEnvName(n), n)
  for (const n of ['MINIO_KMS_VOLUME', 'MINIO_KMS_OPTS', 'PATH']) t.notOk(isSecretEnvName(n), n)
})

t.test('secret config paths: auth.key and named secrets, not key names or key files', async t => {
  for (const p of [['hsm', 'minio', 'minkms', 'auth', 'key'], ['admin', 'api-key'], ['hsm', 'hashicorp', 'vault', 'approle', 'secret'], ['x', 'password'], ['token']]) {
    t.ok(isSecretConfigPath(p), p.join('.'))
  }
  for (const p of [['hsm', 'minio', 'minkms', 'key'], ['tls', 'certs', 'key'], ['key'], [], ['auth']]) t.notOk(isSecretConfigPath(p), p.join('.'))
})

// HSM blocks of other kinds (an AWS, Azure or PKCS#11 block a replaceHsm migration deletes) name
// their secrets in compound words or nest them under `credentials`; exact names let them through.
t.test('secret config paths: compound secret names and everything under credentials', async t => {
  for (const p of [
    ['hsm', 'aws', 'kms', 'credentials', 'secret-key'], ['hsm', 'aws', 'kms', 'secret_access_key'], ['hsm', 'aws', 'kms', 'secretkey'],
    ['hsm', 'azure', 'keyvault', 'client_secret'], ['hsm', 'aws', 'kms', 'session-token'], ['hsm', 'pkcs11', 'pin'],
    ['hsm', 'aws', 'kms', 'credentials', 'accesskey'], ['x', 'passphrase'], ['x', 'Password']
  ]) t.ok(isSecretConfigPath(p), p.join('.'))
  for (const p of [['hsm', 'aws', 'secretsmanager', 'endpoint'], ['hsm', 'aws', 'kms', 'region'], ['hsm', 'pkcs11', 'pin-file', 'x'], ['spin']]) {
    t.notOk(isSecretConfigPath(p), p.join('.'))
  }
})
