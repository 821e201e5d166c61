import t from 'tap'
import { checkMinkmsEnvFile, hsmKeyProblem } from '../../../../shared/edit/minkms-env.js'

const HSM = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='

t.test('a normal minkms env file passes', async t => {
  t.same(checkMinkmsEnvFile(`MINIO_KMS_HSM_KEY=${HSM}\nMINIO_KMS_VOLUME=/mnt/minio-kms\n`), { problems: [], warnings: [] })
  t.same(checkMinkmsEnvFile('MINIO_KMS_VOLUME=/mnt/minio-kms\n'), { problems: [], warnings: [] }, 'without the HSM key too')
  t.same(checkMinkmsEnvFile(''), { problems: [], warnings: [] }, 'an empty file too')
})

t.test('a malformed HSM key is a problem; the message never shows it', async t => {
  const cases: Array<[string, string]> = [
    ['k1:XyTL0XrjcoTYxPbiWQpxA_HOc8PJWhgRU-TGqTRszmI', 'must start with "hsm:aes256:" (the output of `minkms --soft-hsm`)'],
    ['hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW4', 'the part after "hsm:aes256:" must encode 32 bytes, got 31'],
    ['hsm:aes256:not base64!', 'the part after "hsm:aes256:" must be base64']
  ]
  for (const [value, message] of cases) {
    const check = checkMinkmsEnvFile(`# x\nMINIO_KMS_HSM_KEY=${value}\n`)
    t.same(check.problems, [{ path: 'MINIO_KMS_HSM_KEY', message, line: 2 }])
    t.notMatch(JSON.stringify(check), value.slice(11, 30))
  }
  t.equal(hsmKeyProblem(HSM), undefined)
  t.equal(hsmKeyProblem(HSM.replace(/=$/, '')), undefined, 'unpadded base64 decodes to 32 bytes too')
  t.equal(hsmKeyProblem('hsm:aes256:' + Buffer.alloc(32, 7).toString('base64url')), undefined, 'base64url too')
})

t.test('the effective (last) HSM key counts', async t => {
  t.same(checkMinkmsEnvFile(`MINIO_KMS_HSM_KEY=bad\nMINIO_KMS_HSM_KEY=${HSM}\n`).problems, [])
})

t.test('lines systemd ignores are warnings, not problems', async t => {
  const check = checkMinkmsEnvFile(`export MINIO_KMS_HSM_KEY=${HSM}\n9X=1\nJUNK\n`)
  t.same(check.problems, [])
  t.same(check.warnings, [
    { path: 'MINIO_KMS_HSM_KEY', message: 'line 1 is ignored by systemd: EnvironmentFile lines take no "export"; write KEY=value', line: 1 },
    { path: '9X', message: 'line 2 is ignored by systemd: the name must match [A-Za-z_][A-Za-z0-9_]*', line: 2 },
    { path: '', message: 'line 3 has no "=" and is ignored by systemd', line: 3 }
  ])
})

t.test('NUL bytes and open quotes at the end are problems', async t => {
  t.same(checkMinkmsEnvFile('A=1\nB=x\0y\n').problems, [{ path: '', message: 'contains a NUL byte; systemd stops reading the file there', line: 2 }])
  t.same(checkMinkmsEnvFile('A=1\nB="open\n').problems, [{ path: '', message: 'ends inside a quoted value or after a trailing backslash', line: 2 }])
})

t.test('a comment holding an HSM key is pointed out (an unset leaves comments alone)', async t => {
  const check = checkMinkmsEnvFile('A=1\r\n# MINIO_KMS_HSM_KEY=hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40=\r\n# hsm: no key here\r\n')
  t.same(check.problems, [])
  t.match(check.warnings, [{ path: 'MINIO_KMS_HSM_KEY', line: 2, message: /^line 2 is a comment that holds an HSM key/ }])
  t.equal(check.warnings.length, 1)
  t.notMatch(JSON.stringify(check.warnings), /PuKzChdh/, 'the key itself is not shown')
})

t.test('a byte order mark is named as the reason the first line is ignored', async t => {
  const check = checkMinkmsEnvFile('\uFEFFMINIO_KMS_VOLUME=/mnt\n')
  t.same(check.problems, [])
  t.match(check.warnings, [{ path: 'MINIO_KMS_VOLUME', line: 1, message: /line 1 is ignored by systemd: the file starts with a UTF-8 byte order mark.*save the file without it/ }])
})
