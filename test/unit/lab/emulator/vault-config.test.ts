// `hsm.hashicorp.vault`: what the emulator accepts (the shape real minkms configs use) and each
// refusal, with no auth value in any message.
import t, { type Test } from 'tap'
import { parseConfig } from '../../../lab/emulator/config.js'

const P = '/etc/minkms/config.yaml'
const BASE = `version: v1
tls:
  certs:
    - key: /k
      cert: /c
hsm:
  hashicorp:
    vault:
`
const ROLE_ID = 'role-id-5b1c0a7e'
const SECRET_ID = 'secret-id-9f2d4c61'
const SERVER = '      server: "http://vault:8200"\n'
const APPROLE = `      approle: { id: "${ROLE_ID}", secret: "${SECRET_ID}" }\n`
const TRANSIT = '      transit: { engine: "transit", key: "minkms-sealing-key" }\n'

function fatal (t: Test, body: string, what: string): void {
  t.throws(() => parseConfig(BASE + body, P), { name: 'FatalError', message: `kms: invalid config file '${P}': ${what}` }, what)
}

t.test('the real-world block, AppRole and Kubernetes', async (t) => {
  const c = parseConfig(BASE + SERVER + APPROLE + TRANSIT, P)
  t.same(c.vaultHsm, { server: 'http://vault:8200', engine: 'transit', key: 'minkms-sealing-key', auth: { method: 'approle', id: ROLE_ID, secret: SECRET_ID } })
  t.equal(c.externalHsm, undefined)
  t.ok(Object.isFrozen(c))

  const k = parseConfig(BASE + '      server: https://vault.example.net:8200/\n      kubernetes: { role: minkms, jwt: /var/run/secrets/kubernetes.io/serviceaccount/token }\n' +
    '      transit: { key: k }\n', P)
  t.same(k.vaultHsm, { server: 'https://vault.example.net:8200', engine: 'transit', key: 'k', auth: { method: 'kubernetes', role: 'minkms', jwt: '/var/run/secrets/kubernetes.io/serviceaccount/token' } },
    'engine defaults to transit; the server is kept as its origin')

  const both = parseConfig(BASE + SERVER + APPROLE + TRANSIT + `  minio:\n    minkms:\n      server: a:1\n      enclave: e\n      key: k\n      auth: { key: k1:${'A'.repeat(43)} }\n`, P)
  t.same([both.vaultHsm?.key, both.externalHsm?.servers], ['minkms-sealing-key', ['a:1']], 'beside hsm.minio.minkms')
  t.equal(parseConfig(BASE, P).vaultHsm, undefined, 'an empty block configures nothing, as for hsm.minio.minkms')
})

t.test('each refusal', async (t) => {
  fatal(t, APPROLE + TRANSIT, "'hsm.hashicorp.vault.server' is required")
  for (const bad of ['vault:8200', 'ftp://vault:8200', 'http://vault:8200/v1', 'http://vault:8200?x=1', 'http://u:p@vault:8200', 'http://']) {
    fatal(t, `      server: "${bad}"\n` + APPROLE + TRANSIT, "'hsm.hashicorp.vault.server' is not an http(s) URL (expected http[s]://HOST[:PORT])")
  }
  fatal(t, SERVER + TRANSIT, "'hsm.hashicorp.vault' needs an auth method: 'approle' or 'kubernetes'")
  fatal(t, SERVER + APPROLE + '      kubernetes: { role: r, jwt: /t }\n' + TRANSIT, "'hsm.hashicorp.vault' takes one auth method, not both 'approle' and 'kubernetes'")
  fatal(t, SERVER + '      approle: x\n' + TRANSIT, "'hsm.hashicorp.vault.approle' must be a mapping with 'id' and 'secret'")
  fatal(t, SERVER + `      approle: { secret: "${SECRET_ID}" }\n` + TRANSIT, "'hsm.hashicorp.vault.approle.id' is required")
  fatal(t, SERVER + `      approle: { id: "${ROLE_ID}" }\n` + TRANSIT, "'hsm.hashicorp.vault.approle.secret' is required")
  fatal(t, SERVER + `      approle: { id: "${ROLE_ID}", secret: 12345 }\n` + TRANSIT, "'hsm.hashicorp.vault.approle.secret' must be a string")
  fatal(t, SERVER + `      approle: { id: "${ROLE_ID}", secret: "${SECRET_ID}", token: x }\n` + TRANSIT, "unknown field 'hsm.hashicorp.vault.approle.token'")
  fatal(t, SERVER + '      kubernetes: { role: r }\n' + TRANSIT, "'hsm.hashicorp.vault.kubernetes.jwt' is required")
  fatal(t, SERVER + '      kubernetes: { jwt: /t }\n' + TRANSIT, "'hsm.hashicorp.vault.kubernetes.role' is required")
  fatal(t, SERVER + APPROLE, "'hsm.hashicorp.vault.transit.key' is required")
  fatal(t, SERVER + APPROLE + '      transit: { engine: transit }\n', "'hsm.hashicorp.vault.transit.key' is required")
  fatal(t, SERVER + APPROLE + '      transit: minkms-sealing-key\n', "'hsm.hashicorp.vault.transit' must be a mapping with 'engine' and 'key'")
  fatal(t, SERVER + APPROLE + '      transit: { key: k, mount: m }\n', "unknown field 'hsm.hashicorp.vault.transit.mount'")
  fatal(t, SERVER + APPROLE + TRANSIT + '      namespace: admin\n', "unknown field 'hsm.hashicorp.vault.namespace'")
  t.throws(() => parseConfig(BASE.replace('    vault:\n', '    vault: [a]\n'), P), { message: /'hsm.hashicorp.vault' must be a mapping$/ })
})

t.test('no auth value in any refusal', async (t) => {
  const bodies = [
    `      server: "http://${SECRET_ID}:8200/x"\n` + APPROLE + TRANSIT,
    SERVER + APPROLE + '      kubernetes: { role: r, jwt: /t }\n' + TRANSIT,
    SERVER + `      approle: { id: "${ROLE_ID}", secret: "${SECRET_ID}", extra: 1 }\n` + TRANSIT,
    SERVER + `      approle: { id: "${ROLE_ID}", secret: "${SECRET_ID}" }\n`,
    SERVER + `      approle: { id: "${ROLE_ID}", secret: "${SECRET_ID}" }\n` + TRANSIT + '      bogus: 1\n'
  ]
  for (const body of bodies) {
    const err = (() => { try { parseConfig(BASE + body, P) } catch (e) { return e as Error } })()
    t.ok(err, 'refused')
    t.notMatch(err?.message ?? '', SECRET_ID)
    t.notMatch(err?.message ?? '', ROLE_ID)
  }
})
