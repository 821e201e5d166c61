import t, { type Test } from 'tap'
import { inspect } from 'node:util'
import { planChange, planView } from '../../../../shared/change/plan.js'
import { redactChange } from '../../../../shared/change/redact-change.js'
import { validateChange } from '../../../../shared/change/validate-change.js'
import { YamlPathBlockedError } from '../../../../shared/edit/errors.js'
import { maskSecret } from '../../../../shared/secrets/fingerprint.js'

const FP = 'agent-fingerprint-key'
const K1 = 'k1:XyTL0XrjcoTYxPbiWQpxA_HOc8PJWhgRU-TGqTRszmI'
const K2 = 'k2:bQUODAKbVSj2PYWP5rBWTvuVnAbS7ktaAs2XsGScRwI'
const HSM = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='
const CONFIG = [
  '# /etc/minkms/config.yaml',
  'version: v1',
  '',
  'tls:',
  '  certs:',
  '    - key: /etc/minkms/certs/private.key',
  '      cert: /etc/minkms/certs/public.crt',
  '  ca: /etc/minkms/certs/CAs',
  ''
].join('\n')
const ENV = [
  '# /etc/default/minkms',
  `MINIO_KMS_HSM_KEY=${HSM}`,
  'MINIO_KMS_VOLUME=/mnt/minio-kms',
  'MINIO_KMS_OPTS="--config /etc/minkms/config.yaml"',
  ''
].join('\n')
const SECTION = { server: ['kms0.hsm.example.net:7373'], enclave: 'aistor-key-manager', key: 'aistor-key-manager-hsm', auth: { key: { $secret: K1 } } }

/** Every raw secret and a recognisable slice of it: none may appear in any output. */
const RAW = [K1, K2, HSM, K1.slice(3, 23), K2.slice(3, 23), HSM.slice(11, 31), 'pa"ss word', 'pa\\"ss', 'hunter2', 'line-two-secret']

function assertNoSecrets (t: Test, label: string, ...outputs: string[]): void {
  for (const out of outputs) for (const raw of RAW) t.notOk(out.includes(raw), `${label}: no ${raw.slice(0, 6)}…`)
}

t.test('phase A: adding the external HSM shows only added lines, the API key masked', async t => {
  const change = validateChange({ revision: 12, files: { config: { set: { 'hsm.minio.minkms': SECTION } } } })
  const plan = planChange({ config: CONFIG, env: ENV }, change, { fingerprintKey: FP, labels: { config: '/etc/minkms/config.yaml' } })
  t.equal(plan.changed, true)
  t.equal(plan.restart, true)
  t.equal(plan.ok, true)
  t.equal(plan.files.env, undefined, 'a file the change does not mention is not planned')
  const config = plan.files.config
  t.equal(config?.diff, [
    '--- /etc/minkms/config.yaml',
    '+++ /etc/minkms/config.yaml',
    '@@ -6,3 +6,12 @@',
    '     - key: /etc/minkms/certs/private.key',
    '       cert: /etc/minkms/certs/public.crt',
    '   ca: /etc/minkms/certs/CAs',
    '+hsm:',
    '+  minio:',
    '+    minkms:',
    '+      server:',
    '+        - kms0.hsm.example.net:7373',
    '+      enclave: aistor-key-manager',
    '+      key: aistor-key-manager-hsm',
    '+      auth:',
    `+        key: ${maskSecret(K1, FP)}`,
    ''
  ].join('\n'))
  t.equal(config?.newText, `${CONFIG}hsm:\n  minio:\n    minkms:\n      server:\n        - kms0.hsm.example.net:7373\n      enclave: aistor-key-manager\n      key: aistor-key-manager-hsm\n      auth:\n        key: ${K1}\n`)
  t.match(JSON.stringify(redactChange(change, FP)), maskSecret(K1, FP), 'the diff and the change view show the same fingerprint')
  assertNoSecrets(t, 'plan', config?.diff ?? '', JSON.stringify(plan), JSON.stringify(planView(plan)), inspect(plan, { depth: 20 }), String(config))

  const again = planChange({ config: config?.newText ?? '', env: ENV }, change, { fingerprintKey: FP })
  t.equal(again.changed, false, 'the same revision again changes nothing')
  t.equal(again.restart, false)
  t.equal(again.files.config?.diff, '')
  t.equal(again.files.config?.newText, config?.newText)
})

t.test('phase B: removing MINIO_KMS_HSM_KEY masks the key being removed', async t => {
  const change = validateChange({ revision: 13, files: { env: { unset: ['MINIO_KMS_HSM_KEY'] } } })
  const plan = planChange({ config: CONFIG, env: ENV }, change, { fingerprintKey: FP, labels: { env: '/etc/default/minkms' } })
  t.equal(plan.files.env?.diff, [
    '--- /etc/default/minkms',
    '+++ /etc/default/minkms',
    '@@ -1,4 +1,3 @@',
    ' # /etc/default/minkms',
    `-MINIO_KMS_HSM_KEY=${maskSecret(HSM, FP)}`,
    ' MINIO_KMS_VOLUME=/mnt/minio-kms',
    ' MINIO_KMS_OPTS="--config /etc/minkms/config.yaml"',
    ''
  ].join('\n'))
  t.equal(plan.files.env?.newText, ENV.replace(`MINIO_KMS_HSM_KEY=${HSM}\n`, ''))
  assertNoSecrets(t, 'plan', JSON.stringify(plan), inspect(plan, { depth: 20 }))
})

t.test('secrets already in the files are masked in context and changed lines', async t => {
  const config = `version: v1\nadmin:\n  password: |\n    line-one\n    line-two-secret\nhsm:\n  minio:\n    minkms:\n      server: [a:1]\n      enclave: e\n      key: k\n      auth:\n        key: "${K2}"\n`
  const env = `MY_PASSWORD="pa\\"ss word"\nMINIO_KMS_OPTS="--api-key ${K2}"\nexport API_TOKEN=hunter2\n`
  const change = validateChange({
    revision: 2,
    files: {
      config: { set: { 'hsm.minio.minkms.enclave': 'e2', 'admin.password': 'new-secret-line\nsecond' } },
      env: { set: { MY_PASSWORD: 'x', MINIO_KMS_OPTS: '--quiet' }, unset: ['API_TOKEN'] }
    }
  })
  const plan = planChange({ config, env }, change, { fingerprintKey: FP })
  const diffs = `${plan.files.config?.diff ?? ''}${plan.files.env?.diff ?? ''}`
  assertNoSecrets(t, 'diff', diffs, JSON.stringify(plan))
  t.match(plan.files.config?.diff, `         key: "${maskSecret(K2, FP)}"`, 'a quoted key in a context line')
  t.match(plan.files.env?.diff, `-MY_PASSWORD=${maskSecret('pa"ss word', FP)}`, 'an escaped value shows the fingerprint of its value')
  t.match(plan.files.env?.diff, `-MINIO_KMS_OPTS="--api-key ${maskSecret(K2, FP)}"`, 'a key inside another value')
  t.match(plan.files.env?.diff, `-export API_TOKEN=${maskSecret('hunter2', FP)}`, 'export lines too')
  t.match(plan.files.env?.diff, `+MY_PASSWORD="${maskSecret('x', FP)}"`, 'the new secret value is masked, even a short one')
  t.match(plan.files.env?.diff, '-export API_TOKEN', 'a short secret is masked as a token, not inside words')
  const oldPassword = maskSecret('line-one\nline-two-secret\n', FP)
  const newPassword = maskSecret('new-secret-line\nsecond', FP)
  t.match(plan.files.config?.diff, `-  password: |\n-    ${oldPassword}\n-    ${oldPassword}\n+  password: |-\n+    ${newPassword}\n+    ${newPassword}\n`, 'multi-line secrets are masked line by line')
  assertNoSecrets(t, 'diff', plan.files.config?.diff ?? '')
  t.notMatch(plan.files.config?.diff, /new-secret-line|second|line-one/)
})

t.test('restart follows the policy', async t => {
  const edit = { env: { set: { MINIO_KMS_VOLUME: '/data' } } }
  const same = { env: { set: { MINIO_KMS_VOLUME: '/mnt/minio-kms' } } }
  const cases: Array<[string, typeof edit, boolean]> = [['never', edit, false], ['on-change', edit, true], ['on-change', same, false], ['always', same, true]]
  for (const [restart, files, expected] of cases) {
    const plan = planChange({ env: ENV }, validateChange({ revision: 1, files, restart }), { fingerprintKey: FP })
    t.equal(plan.restart, expected, `${restart}, changed=${String(plan.changed)}`)
  }
})

t.test('validation problems block, and never hold the key', async t => {
  const bad = `${K1.slice(0, -4)}AAAB`
  const change = validateChange({ revision: 3, files: { config: { set: { 'hsm.minio.minkms': { ...SECTION, server: [], auth: { key: bad } } } } } })
  const plan = planChange({ config: CONFIG }, change, { fingerprintKey: FP })
  t.equal(plan.ok, false)
  t.same(plan.files.config?.problems.map(p => p.path), ['hsm.minio.minkms.server', 'hsm.minio.minkms.auth.key'])
  t.notMatch(JSON.stringify(plan), bad.slice(3, 23))
  const envPlan = planChange({ env: ENV }, validateChange({ revision: 3, files: { env: { set: { MINIO_KMS_HSM_KEY: 'hsm:aes256:short' } } } }), { fingerprintKey: FP })
  t.equal(envPlan.ok, false)
  t.same(envPlan.files.env?.problems, [{ path: 'MINIO_KMS_HSM_KEY', message: 'the part after "hsm:aes256:" must encode 32 bytes, got 3', line: 2 }])
})

t.test('missing files count as empty; edit errors propagate', async t => {
  const plan = planChange({}, validateChange({ revision: 1, files: { env: { set: { A: '1' } } } }), { fingerprintKey: FP })
  t.equal(plan.files.env?.existed, false)
  t.equal(plan.files.env?.newText, 'A=1\n')
  t.equal(plan.files.env?.label, 'env')
  t.throws(() => planChange({ config: CONFIG }, validateChange({ revision: 1, files: { config: { set: { 'version.x': 1 } } } }), { fingerprintKey: FP }), YamlPathBlockedError)
})

t.test('a config without a final newline, or with a `{}` placeholder: the plan shows added lines only, one header', async t => {
  const change = validateChange({ revision: 3, files: { config: { set: { 'hsm.minio.minkms': { server: ['kms0:7373'], enclave: 'e' } } } } })
  const opts = { fingerprintKey: FP, labels: { config: '/etc/minkms/config.yaml' } }
  const bare = planChange({ config: 'version: v1\nlog:\n  level: info' }, change, opts).files.config
  t.equal(bare?.diff, [
    '--- /etc/minkms/config.yaml', '+++ /etc/minkms/config.yaml', '@@ -1,3 +1,9 @@',
    ' version: v1', ' log:', '   level: info', '+hsm:', '+  minio:', '+    minkms:', '+      server:', '+        - kms0:7373', '+      enclave: e',
    '\\ No newline at end of file', ''
  ].join('\n'))
  t.equal(bare?.newText.endsWith('enclave: e'), true, 'the file still ends without a newline')
  const placeholder = planChange({ config: 'version: v1\nhsm: {}  # external HSM\n' }, change, opts).files.config
  t.equal(placeholder?.diff, [
    '--- /etc/minkms/config.yaml', '+++ /etc/minkms/config.yaml', '@@ -1,2 +1,7 @@',
    ' version: v1', '-hsm: {}  # external HSM', '+hsm:  # external HSM', '+  minio:', '+    minkms:', '+      server:', '+        - kms0:7373', '+      enclave: e', ''
  ].join('\n'))
  t.equal(placeholder?.diff.match(/^--- /gm)?.length, 1, 'one header per file')
})
