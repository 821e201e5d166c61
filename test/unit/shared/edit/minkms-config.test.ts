import t from 'tap'
import { checkMinkmsConfig, hostPortProblem } from '../../../../shared/edit/minkms-config.js'
import { formatProblems } from '../../../../shared/edit/problem.js'

const K1 = 'k1:XyTL0XrjcoTYxPbiWQpxA_HOc8PJWhgRU-TGqTRszmI'
const K2 = 'k2:bQUODAKbVSj2PYWP5rBWTvuVnAbS7ktaAs2XsGScRwI'

const config = (minkms: string): string => `version: v1\nhsm:\n  minio:\n    minkms:\n${minkms}`
const GOOD = config(`      server:\n        - kms0.example.net:7373\n        - 10.0.0.2:7373\n        - "[fd00::2]:7373"\n      enclave: aistor-key-manager\n      key: aistor-key-manager-hsm\n      auth:\n        key: ${K1}\n`)

t.test('a complete config passes', async t => {
  t.same(checkMinkmsConfig(GOOD), [])
  t.same(checkMinkmsConfig(GOOD.replace(K1, K2)), [], 'k2 keys too')
  t.same(checkMinkmsConfig('version: v1\ntls:\n  ca: /x\n'), [], 'no hsm section is fine')
})

t.test('version must stay v1', async t => {
  t.same(checkMinkmsConfig('tls: {}\n'), [{ path: 'version', message: 'missing; add `version: v1`', line: 1 }])
  t.same(checkMinkmsConfig('version: v2\n'), [{ path: 'version', message: 'must be v1', line: 1 }])
  t.same(checkMinkmsConfig('version: 1\n'), [{ path: 'version', message: 'must be v1', line: 1 }])
})

t.test('every problem of the minkms section is listed with its line', async t => {
  const bad = config('      server:\n        - https://kms0.example.net:7373\n        - kms1:0\n        - bad_host:7373\n        - 7\n      enclave: ""\n      auth:\n        key: k1:tooshort\n')
  t.same(checkMinkmsConfig(bad), [
    { path: 'hsm.minio.minkms.server[0]', message: '"https://kms0.example.net:7373" must be host:port, e.g. kms0.example.net:7373 (no scheme, no path)', line: 6 },
    { path: 'hsm.minio.minkms.server[1]', message: '"kms1:0" has port 0; use 1-65535', line: 7 },
    { path: 'hsm.minio.minkms.server[2]', message: '"bad_host:7373" has an invalid host; use a DNS name, an IPv4 address or [IPv6]', line: 8 },
    { path: 'hsm.minio.minkms.server[3]', message: 'must be a host:port string', line: 9 },
    { path: 'hsm.minio.minkms.enclave', message: 'must be a non-empty string: the enclave on the external Key Manager', line: 10 },
    { path: 'hsm.minio.minkms.key', message: 'missing; set it to the name of the encryption key in that enclave', line: 5 },
    { path: 'hsm.minio.minkms.auth.key', message: 'not a valid API key: k1: API key must hold a 32-byte Ed25519 seed, got 6 bytes', line: 12 }
  ])
})

t.test('missing pieces and wrong shapes', async t => {
  t.match(checkMinkmsConfig(config('      enclave: e\n      key: k\n')), [
    { path: 'hsm.minio.minkms.server', message: /^missing; list the external Key Manager nodes/ },
    { path: 'hsm.minio.minkms.auth', message: /^missing; add auth.key/ }
  ])
  t.match(checkMinkmsConfig(config('      server: []\n      enclave: e\n      key: k\n      auth: k1\n')), [
    { path: 'hsm.minio.minkms.server', message: 'must be a non-empty list of host:port strings' },
    { path: 'hsm.minio.minkms.auth', message: /must be a mapping/ }
  ])
  t.same(checkMinkmsConfig('version: v1\nhsm: [a]\n'), [{ path: 'hsm', message: 'must be a mapping, found a sequence', line: 2 }])
  t.same(checkMinkmsConfig('version: v1\nhsm:\n  minio: x\n'), [{ path: 'hsm.minio', message: 'must be a mapping, found a string scalar', line: 3 }])
  t.match(checkMinkmsConfig(config('      server: [a:1]\n      enclave: e\n      key: k\n      auth:\n        key: h1:Vic9BzjKXEheV-bgEy2INHJt56TepoTZ_4Y32IqE9Ok\n')), [
    { path: 'hsm.minio.minkms.auth.key', message: 'not a valid API key: expected an API key (k1:/k2:) but got an identity (h1:)' }
  ])
})

t.test('messages never contain the API key', async t => {
  const wrong = K1.slice(0, -2) + 'x' // right length, not canonical base64url
  for (const key of [wrong, `${K1}AA`, K1.replace('k1:', 'k9:'), `hsm:aes256:${K1.slice(3)}`]) {
    const problems = checkMinkmsConfig(GOOD.replace(K1, key))
    t.equal(problems.length, 1, key.slice(0, 3))
    t.notMatch(JSON.stringify(problems), key.slice(3, 20))
    t.notMatch(formatProblems(problems), key.slice(3, 20), 'nor does the text an error shows')
  }
  t.match(hostPortProblem(`${K1}:1`), /^\(value hidden: it looks like a key\)/)
})

t.test('unparsable files are one problem with its position', async t => {
  t.match(checkMinkmsConfig('version: v1\nx: [\n'), [{ path: '', line: 3, column: 1, message: /^YAML does not parse at line 3/ }])
  t.same(checkMinkmsConfig('- a\n'), [{ path: '', message: 'the config must be a YAML mapping, found a sequence' }])
  t.same(checkMinkmsConfig(''), [{ path: '', message: 'the config must be a YAML mapping, found empty' }])
})

t.test('host:port rules', async t => {
  for (const ok of ['a:1', 'kms-0.example.net:65535', '192.168.1.1:7373', '[::1]:7373']) t.equal(hostPortProblem(ok), undefined, ok)
  for (const bad of ['a', 'a:', ':7373', 'a:65536', 'a:b', '[::g]:1', 'a:7373/path', '-a:1', 'a b:1']) t.type(hostPortProblem(bad), 'string', bad)
})
