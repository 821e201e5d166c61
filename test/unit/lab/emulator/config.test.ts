import t, { type Test } from 'tap'
import { loadConfig, parseConfig } from '../../../lab/emulator/config.js'

const TLS = `tls:
  certs:
    - key: /k
      cert: /c
  ca: /etc/minkms/certs/CAs
`
const KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'
const P = '/etc/minkms/config.yaml'

function fatal (t: Test, text: string, message: string | RegExp): void {
  t.throws(() => parseConfig(text, P), { name: 'FatalError', message }, typeof message === 'string' ? message : message.source)
}

t.test('the documented errors', async (t) => {
  fatal(t, 'version: v1\n', 'kms: no TLS configuration provided')
  fatal(t, 'version: v1\ntls: {}\n', 'kms: no server certificate provided')
  fatal(t, 'version: v1\ntls:\n  certs: []\n', 'kms: no server certificate provided')
  await t.rejects(loadConfig(undefined), { message: 'kms: no TLS configuration provided' })
})

t.test('our own errors', async (t) => {
  fatal(t, TLS, `kms: invalid config file '${P}': 'version' is required (version: v1)`)
  fatal(t, 'version: v2\n' + TLS, `kms: invalid config file '${P}': unsupported version 'v2' (supported: v1)`)
  fatal(t, 'version: v1\nbogus: 1\n' + TLS, `kms: invalid config file '${P}': unknown field 'bogus'`)
  const supported = '(the emulator supports hsm.minio.minkms and hsm.hashicorp.vault)'
  fatal(t, 'version: v1\n' + TLS + 'hsm:\n  aws:\n    kms: {}\n', `kms: invalid config file '${P}': HSM 'hsm.aws' is not supported ${supported}`)
  fatal(t, 'version: v1\n' + TLS + 'hsm:\n  hashicorp:\n    keyvault: {}\n', `kms: invalid config file '${P}': HSM 'hsm.hashicorp.keyvault' is not supported ${supported}`)
  fatal(t, 'version: v1\n' + TLS + 'hsm:\n  minio:\n    soft: {}\n', `kms: invalid config file '${P}': HSM 'hsm.minio.soft' is not supported ${supported}`)
  fatal(t, 'version: v1\n' + TLS + 'hsm:\n  hashicorp: [vault]\n', `kms: invalid config file '${P}': 'hsm.hashicorp' must be a mapping`)
  fatal(t, '- a\n', `kms: invalid config file '${P}': the document is not a YAML mapping`)
  fatal(t, 'version: v1\nversion: v1\n', /kms: invalid config file .*: Map keys must be unique/)
  fatal(t, 'version: v1\n' + TLS + '  extra: 1\n', /unknown field 'tls.extra'/)
  await t.rejects(loadConfig('/nonexistent/config.yaml'), { message: /^kms: failed to read config file '\/nonexistent\/config.yaml': ENOENT/ })
})

t.test('hsm.minio.minkms', async (t) => {
  const base = 'version: v1\n' + TLS + 'hsm:\n  minio:\n    minkms:\n'
  const ok = parseConfig(base + `      server: [ "10.77.0.51:7373", "https://10.77.0.52" ]\n      enclave: e\n      key: k\n      auth:\n        key: ${KEY}\n`, P)
  t.same(ok.externalHsm, { servers: ['10.77.0.51:7373', '10.77.0.52:7373'], enclave: 'e', key: 'k', apiKey: KEY })
  t.equal(ok.tls.ca, '/etc/minkms/certs/CAs')
  fatal(t, base + `      server: []\n      enclave: e\n      key: k\n      auth: { key: ${KEY} }\n`, /'hsm.minio.minkms.server' needs at least one server/)
  fatal(t, base + `      server: [a:1]\n      key: k\n      auth: { key: ${KEY} }\n`, /'hsm.minio.minkms.enclave' is required/)
  fatal(t, base + `      server: [a:1]\n      enclave: e\n      auth: { key: ${KEY} }\n`, /'hsm.minio.minkms.key' is required/)
  fatal(t, base + '      server: [a:1]\n      enclave: e\n      key: k\n', /'hsm.minio.minkms.auth.key' is required/)
  fatal(t, base + '      server: [a:1]\n      enclave: e\n      key: k\n      auth: { key: k1:nope }\n', /'hsm.minio.minkms.auth.key' is not a valid API key/)
  fatal(t, base + `      server: [a:1]\n      enclve: e\n      key: k\n      auth: { key: ${KEY} }\n`, /unknown field 'hsm.minio.minkms.enclve'/)
  fatal(t, base + `      server: ["http://a:1"]\n      enclave: e\n      key: k\n      auth: { key: ${KEY} }\n`, /server\[0\]' is not a valid HOST:PORT/)
})

t.test('secrets never appear in errors', async (t) => {
  const secret = 'k1:' + 'A'.repeat(42)
  try {
    parseConfig('version: v1\n' + TLS + `hsm:\n  minio:\n    minkms:\n      server: [a:1]\n      enclave: e\n      key: k\n      auth: { key: "${secret}" }\n`, P)
    t.fail('should throw')
  } catch (err) {
    t.notMatch((err as Error).message, secret)
  }
})

t.test('ignored sections warn', async (t) => {
  const c = parseConfig('version: v1\nlog: {}\n' + TLS, P)
  t.same(c.warnings, ["config: section 'log' is ignored by the emulator"])
  t.ok(Object.isFrozen(c))
})
