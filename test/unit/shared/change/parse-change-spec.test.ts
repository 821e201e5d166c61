import t from 'tap'
import { inspect } from 'node:util'
import { ChangeSpecSyntaxError, ChangeValidationError } from '../../../../shared/change/errors.js'
import { parseChangeSpec } from '../../../../shared/change/parse-change-spec.js'
import { validateChange } from '../../../../shared/change/validate-change.js'
import { Secret, isSecret } from '../../../../shared/secrets/secret.js'

const K1 = 'k1:XyTL0XrjcoTYxPbiWQpxA_HOc8PJWhgRU-TGqTRszmI'
const HSM = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='

const DESIGN_SPEC = `revision: 12
files:
  config:   # the minkms YAML file
    set:    { "hsm.minio.minkms": { server: [kms0.hsm.example.net:7373], enclave: aistor-key-manager, key: aistor-key-manager-hsm, auth: { key: !secret ${K1} } } }
    delete: []
  env:      # the EnvironmentFile
    set:    {}
    unset:  [MINIO_KMS_HSM_KEY]
restart: on-change          # never | on-change | always
verify:   { deadline: 60s, stableFor: 5s }
`

function problemsOf (t: { throws: (fn: () => unknown) => unknown }, fn: () => unknown): Array<{ path: string, message: string, line?: number }> {
  const err = t.throws(fn) as ChangeValidationError
  if (!(err instanceof ChangeValidationError)) throw new Error(`expected ChangeValidationError, got ${String(err)}`)
  return err.problems.map(p => ({ ...p }))
}

t.test('the design example parses into a frozen change with its secret wrapped', async t => {
  const change = parseChangeSpec(DESIGN_SPEC, 'yaml')
  t.equal(change.revision, 12)
  t.equal(change.restart, 'on-change')
  t.same(change.verify, { deadlineMs: 60_000, stableForMs: 5_000 })
  t.same(change.files.env, { set: {}, unset: ['MINIO_KMS_HSM_KEY'] })
  const section = change.files.config?.set['hsm.minio.minkms'] as { auth: { key: Secret }, server: string[] }
  t.ok(isSecret(section.auth.key))
  t.equal(section.auth.key.reveal(), K1)
  t.same(section.server, ['kms0.hsm.example.net:7373'])
  t.ok(Object.isFrozen(change) && Object.isFrozen(change.files.config?.set) && Object.isFrozen(section.server))
  t.notMatch(JSON.stringify(change), K1.slice(3))
  t.notMatch(inspect(change, { depth: 20 }), K1.slice(3))
})

t.test('JSON specs: $secret objects, defaults', async t => {
  const change = parseChangeSpec(JSON.stringify({ revision: 1, files: { env: { set: { MINIO_KMS_HSM_KEY: { $secret: HSM }, A: 'x' } } } }), 'json')
  t.same(change.verify, { deadlineMs: 60_000, stableForMs: 5_000 })
  t.equal(change.restart, 'on-change')
  t.ok(isSecret(change.files.env?.set.MINIO_KMS_HSM_KEY))
  t.equal(change.files.env?.set.A, 'x')
  t.same(change.files.env?.unset, [])
  t.equal(change.files.config, undefined)
})

t.test('unmarked secrets are wrapped anyway (defence in depth)', async t => {
  const change = validateChange({
    revision: 1,
    files: {
      config: { set: { 'hsm.minio.minkms.auth.key': K1, 'admin.password': 'pw', 'x.y': { token: 't', list: [K1], name: 'plain', n: 1 } } },
      env: { set: { MINIO_KMS_HSM_KEY: HSM, MY_TOKEN: 'abc', OPTS: `--api-key ${K1}`, MINIO_KMS_VOLUME: '/mnt' } }
    }
  })
  const set = change.files.config?.set ?? {}
  t.ok(isSecret(set['hsm.minio.minkms.auth.key']))
  t.ok(isSecret(set['admin.password']))
  const xy = set['x.y'] as Record<string, unknown>
  t.ok(isSecret(xy.token))
  t.ok(isSecret((xy.list as unknown[])[0]))
  t.equal(xy.name, 'plain')
  t.equal(xy.n, 1)
  const env = change.files.env?.set ?? {}
  t.ok(isSecret(env.MINIO_KMS_HSM_KEY) && isSecret(env.MY_TOKEN) && isSecret(env.OPTS))
  t.equal(env.MINIO_KMS_VOLUME, '/mnt')
})

t.test('every schema problem is listed with its path and line', async t => {
  const spec = [
    'revision: 0',
    'files:',
    '  confg: {}',
    '  env:',
    '    set:',
    '      "bad key": x',
    '      PORT: 7373',
    '      A: ok',
    '    unset: [A]',
    'restart: sometimes',
    'verify: { deadline: 1x }',
    'extra: 1',
    ''
  ].join('\n')
  t.same(problemsOf(t, () => parseChangeSpec(spec, 'yaml')), [
    { path: 'extra', message: 'unknown field; allowed: revision, files, restart, verify', line: 12, column: 1 },
    { path: 'revision', message: 'must be >= 1 (the revision number, an integer from 1 to 2^53-1 (9007199254740991))', line: 1, column: 1 },
    { path: 'files.confg', message: 'unknown field; allowed: config, env', line: 3, column: 3 },
    { path: 'files.env.set["bad key"]', message: 'is not a valid variable name; use letters, digits and _, not starting with a digit', line: 6, column: 7 },
    { path: 'files.env.set.PORT', message: 'must be a string, or a secret { "$secret": "<value>" }', line: 7, column: 7 },
    { path: 'restart', message: 'must be one of: never, on-change, always', line: 10, column: 1 },
    { path: 'verify.deadline', message: 'must be a duration such as 500ms, 60s, 2m or 1m30s', line: 11, column: 11 },
    { path: 'files.env.unset[0]', message: 'A is also in set; a variable is either set or unset', line: 9, column: 13 }
  ])
})

t.test('missing fields and wrong types', async t => {
  t.same(problemsOf(t, () => validateChange({})), [
    { path: 'revision', message: 'missing; expected the revision number, an integer from 1 to 2^53-1 (9007199254740991)' },
    { path: 'files', message: 'missing; expected the files to edit: config and/or env' }
  ])
  t.same(problemsOf(t, () => validateChange(null)), [{ path: '', message: 'must be an object (a change)' }])
  t.same(problemsOf(t, () => validateChange({ revision: 1.5, files: { config: { set: [], delete: 'a' } } })), [
    { path: 'revision', message: 'must be an integer (the revision number, an integer from 1 to 2^53-1 (9007199254740991))' },
    { path: 'files.config.set', message: 'must be an object (dotted path (e.g. hsm.minio.minkms; quote segments holding dots: a."b.c") → any YAML value)' },
    { path: 'files.config.delete', message: 'must be an array (dotted paths to remove)' }
  ])
})

t.test('config paths, overlaps, secret objects and values', async t => {
  t.same(problemsOf(t, () => validateChange({
    revision: 1,
    files: {
      config: {
        set: { 'a..b': 1, tls: { ca: '/x' }, 'tls.ca': '/y', q: { $secret: 'x', other: 1 }, r: { $secret: '' }, n: Number.POSITIVE_INFINITY },
        delete: ['tls.certs', 'tls.certs']
      },
      env: { set: { A: 'line\nbreak' } }
    }
  })), [
    { path: 'files.config.delete', message: 'lists the same entry twice' },
    { path: 'files.config.set["a..b"]', message: 'invalid path "a..b": empty segment 2 (use "" to name an empty key)' },
    { path: 'files.config.set.q', message: '{ "$secret": … } holds exactly one key, $secret, whose value is a non-empty string' },
    { path: 'files.config.set.r', message: '$secret must not be empty' },
    { path: 'files.config.set.n', message: 'must be a finite number' },
    { path: 'files.config.set["tls.ca"]', message: 'overlaps "set tls" (tls): one path contains the other; combine them into one edit' },
    { path: 'files.config.delete[0]', message: 'overlaps "set tls" (tls): one path contains the other; combine them into one edit' },
    { path: 'files.config.delete[1]', message: 'overlaps "set tls" (tls): one path contains the other; combine them into one edit' },
    { path: 'files.config.delete[1]', message: 'overlaps "delete tls.certs" (tls.certs): one path contains the other; combine them into one edit' },
    { path: 'files.env.set.A', message: 'must not contain a line break (CR or LF)' }
  ])
})

t.test('verify windows must make sense', async t => {
  t.same(problemsOf(t, () => validateChange({ revision: 1, files: {}, verify: { deadline: '5s', stableFor: '5s' } })), [
    { path: 'verify.stableFor', message: 'stableFor must be shorter than deadline: the unit must prove itself stable before the deadline' }
  ])
  t.same(problemsOf(t, () => validateChange({ revision: 1, files: {}, verify: { deadline: '3s' } })), [
    { path: 'verify.deadline', message: 'stableFor must be shorter than deadline: the unit must prove itself stable before the deadline' }
  ], 'the default stableFor (5s) does not fit a 3s deadline')
  t.same(problemsOf(t, () => validateChange({ revision: 1, files: {}, verify: { deadline: '0s' } })), [{ path: 'verify.deadline', message: 'must be longer than 0' }])
  t.same(validateChange({ revision: 1, files: {}, verify: { deadline: '2m', stableFor: '500ms' } }).verify, { deadlineMs: 120_000, stableForMs: 500 })
})

t.test('syntax errors point at the line and never quote the source', async t => {
  const broken = `revision: 1\nfiles:\n  env:\n    set: { A: !secret ${K1}\n`
  const err = t.throws(() => parseChangeSpec(broken, 'yaml')) as ChangeSpecSyntaxError
  t.ok(err instanceof ChangeSpecSyntaxError)
  t.match(err, { code: 'SHR_CHANGE_SPEC_SYNTAX', statusCode: 400, line: 5, column: 1 })
  t.notMatch(err.message, K1.slice(3))
  t.throws(() => parseChangeSpec('a: 1\n---\nb: 2\n', 'yaml'), { code: 'SHR_CHANGE_SPEC_SYNTAX', message: /2 documents/ })
  t.throws(() => parseChangeSpec('files: !secret\n  a: 1\n', 'yaml'), { code: 'SHR_CHANGE_SPEC_SYNTAX', line: 1, message: /!secret applies to a single value/ })
  t.throws(() => parseChangeSpec('files: !nope 1\n', 'yaml'), { code: 'SHR_CHANGE_SPEC_SYNTAX', line: 1, message: /Unresolved tag: !nope/ })

  const json = `{"revision": 1,\n "files": {"env": {"set": {"A": "${K1}"}}},\n}`
  const jerr = t.throws(() => parseChangeSpec(json, 'json')) as ChangeSpecSyntaxError
  t.match(jerr, { code: 'SHR_CHANGE_SPEC_SYNTAX', line: 3, message: /not valid JSON/ })
  t.notMatch(jerr.message, K1.slice(3))
  t.throws(() => parseChangeSpec('{"revision": 1, "revision": 2, "files": {}}', 'json'), { code: 'SHR_CHANGE_SPEC_SYNTAX', message: /appears twice/ })
})

t.test('JSON problems get lines too', async t => {
  t.same(problemsOf(t, () => parseChangeSpec('{\n  "revision": 1,\n  "files": {},\n  "restart": "sometimes"\n}', 'json')), [
    { path: 'restart', message: 'must be one of: never, on-change, always', line: 4, column: 3 }
  ])
})
