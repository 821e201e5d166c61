import t from 'tap'
import { editEnvFile } from '../../../../shared/edit/env-file.js'
import { effectiveEnv, parseEnvFile } from '../../../../shared/edit/env-parse.js'

const HSM = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='
const MINKMS_ENV = [
  '# /etc/default/minkms',
  '',
  `MINIO_KMS_HSM_KEY=${HSM}`,
  'MINIO_KMS_VOLUME=/mnt/minio-kms',
  '   # options for ExecStart',
  'MINIO_KMS_OPTS="--host kms1.example.net:7373 \\',
  '  --config /etc/minkms/config.yaml"',
  '; trailing comment',
  ''
].join('\n')

t.test('unsetting MINIO_KMS_HSM_KEY removes its line and keeps every other byte', async t => {
  const out = editEnvFile(MINKMS_ENV, { unset: ['MINIO_KMS_HSM_KEY'] })
  t.equal(out, MINKMS_ENV.replace(`MINIO_KMS_HSM_KEY=${HSM}\n`, ''))
  t.notMatch(out, 'hsm:aes256')
})

t.test('unset removes every line of every assignment, export lines included', async t => {
  const text = 'A=1\nK="multi\nline"\nB=2\nK=x \\\n  continued\nexport K=old\nC=3\n'
  t.equal(editEnvFile(text, { unset: ['K'] }), 'A=1\nB=2\nC=3\n')
  t.equal(editEnvFile('A=1\nK=2', { unset: ['K'] }), 'A=1', 'the last line goes with the line break before it')
  t.equal(editEnvFile('K=1\nK=2', { unset: ['K'] }), '')
  t.equal(editEnvFile('A=1\r\nK=2\r\nB=3\r\n', { unset: ['K'] }), 'A=1\r\nB=3\r\n')
})

t.test('set changes the value in place, keeping the line\'s form', async t => {
  t.equal(editEnvFile('  A = "x"   # part of the value\nB=1\n', { set: { A: 'y' } }), '  A = y\nB=1\n', 'no inline comments: the text after the quote was part of the value')
  t.equal(editEnvFile('  A = "x"  \nB=1\n', { set: { A: 'new value' } }), '  A = "new value"  \nB=1\n')
  t.equal(editEnvFile("A='x'\n", { set: { A: 'a b' } }), "A='a b'\n", 'single quotes stay when they can')
  t.equal(editEnvFile("A='x'\n", { set: { A: "it's" } }), 'A="it\'s"\n')
  t.equal(editEnvFile('A=x\n', { set: { A: 'y' } }), 'A=y\n')
  t.equal(editEnvFile('A=x\n', { set: { A: 'has space' } }), 'A="has space"\n')
  t.equal(editEnvFile('A=x\n', { set: { A: '$HOME "q" \\ `c`' } }), 'A="\\$HOME \\"q\\" \\\\ \\`c\\`"\n')
  t.equal(editEnvFile('A=x\n', { set: { A: '#hash' } }), 'A="#hash"\n')
  t.equal(editEnvFile('A=x\n', { set: { A: '' } }), 'A=\n')
  t.equal(editEnvFile('A=1 \\\n 2\nB=3\n', { set: { A: '9' } }), 'A=9\nB=3\n', 'a continued value becomes one line')
})

t.test('set edits the assignment systemd uses (the last) and leaves shadowed ones', async t => {
  t.equal(editEnvFile('A=1\nB=2\nA=3\n', { set: { A: '4' } }), 'A=1\nB=2\nA=4\n')
  t.equal(editEnvFile('export A=1\n', { set: { A: '2' } }), 'export A=1\nA=2\n', 'an export line does not count as set')
})

t.test('new variables are appended', async t => {
  t.equal(editEnvFile(MINKMS_ENV, { set: { MINIO_KMS_API_KEY: 'k', X: 'a b' } }), `${MINKMS_ENV}MINIO_KMS_API_KEY=k\nX="a b"\n`)
  t.equal(editEnvFile('A=1', { set: { B: '2' } }), 'A=1\nB=2', 'a file without a final newline keeps that')
  t.equal(editEnvFile('', { set: { B: '2' } }), 'B=2\n')
  t.equal(editEnvFile('A=1\r\n', { set: { B: '2' } }), 'A=1\r\nB=2\r\n')
  t.equal(editEnvFile('A=1\n', { unset: ['A'], set: { A: '2' } }), 'A=2\n', 'unset runs before set')
})

t.test('a change that changes nothing returns the original text', async t => {
  t.equal(editEnvFile(MINKMS_ENV, { set: { MINIO_KMS_VOLUME: '/mnt/minio-kms' }, unset: ['NOT_THERE'] }), MINKMS_ENV)
  t.equal(editEnvFile(MINKMS_ENV, { set: { MINIO_KMS_OPTS: '--host kms1.example.net:7373   --config /etc/minkms/config.yaml' } }), MINKMS_ENV)
  t.equal(editEnvFile(MINKMS_ENV, {}), MINKMS_ENV)
})

t.test('bad names and values are refused, naming the key but not the value', async t => {
  t.throws(() => editEnvFile('', { set: { '1A': 'x' } }), { code: 'SHR_ENV_INVALID_KEY', statusCode: 400, message: /"1A"/ })
  t.throws(() => editEnvFile('', { unset: ['export A'] }), { code: 'SHR_ENV_INVALID_KEY' })
  t.throws(() => editEnvFile('', { set: { A: 'sec\nret' } }), { code: 'SHR_ENV_INVALID_VALUE', message: 'invalid value for A: must not contain a line break (CR or LF)' })
  t.throws(() => editEnvFile('', { set: { A: 'x\ry' } }), { code: 'SHR_ENV_INVALID_VALUE' })
  t.throws(() => editEnvFile('', { set: { A: 'x\0y' } }), { code: 'SHR_ENV_INVALID_VALUE', message: /NUL/ })
})

t.test('appending after an unterminated quote is refused', async t => {
  t.throws(() => editEnvFile('A="open\n', { set: { B: '1' } }), { code: 'SHR_ENV_EDIT_MISMATCH', statusCode: 409, message: /line 1/ })
  t.equal(editEnvFile('A="open\n', { unset: ['A'] }), '', 'removing the broken assignment is fine')
})

t.test('any value round-trips through systemd\'s reading', async t => {
  const values = ['', 'plain', 'two words', ' lead', 'trail ', "it's", 'say "hi"', 'back\\slash', '$VAR $' + '{X}', '`cmd`', '#x', ';y', 'tab\there', 'a=b', 'ünïcødé', '\\', '"', "'", HSM]
  for (const v of values) {
    for (const start of ['', 'A=old\n', "A='old'\n", 'A="old"\n']) {
      const out = editEnvFile(start, { set: { A: v } })
      t.equal(effectiveEnv(parseEnvFile(out)).get('A'), v, `${JSON.stringify(start)} ← ${JSON.stringify(v)}`)
    }
  }
})

// systemd does not skip a UTF-8 byte order mark: it reads it as part of the first name, so that
// line is ignored, but it still holds the value. An unset must remove it like an `export` line.
t.test('a byte order mark before the first assignment: unset removes that line with the mark', async t => {
  const HSM_KEY = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='
  const text = `\uFEFFMINIO_KMS_HSM_KEY=${HSM_KEY}\nMINIO_KMS_VOLUME=/mnt/minio-kms\n`
  const file = parseEnvFile(text)
  t.match(file.assignments[0], { valid: false, exported: 'MINIO_KMS_HSM_KEY' })
  t.same(file.ignored, [{ line: 1, reason: 'byte-order-mark', key: 'MINIO_KMS_HSM_KEY' }])
  t.equal(editEnvFile(text, { unset: ['MINIO_KMS_HSM_KEY'] }), 'MINIO_KMS_VOLUME=/mnt/minio-kms\n', 'the line and the mark go; the next line stays valid')
  const other = `\uFEFFA=1\nMINIO_KMS_HSM_KEY=${HSM_KEY}\n`
  t.equal(editEnvFile(other, { unset: ['MINIO_KMS_HSM_KEY'] }), '\uFEFFA=1\n', 'elsewhere the mark stays where it is')
})
