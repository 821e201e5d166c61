import t from 'tap'
import { createSecretKey, createSign, createVerify, generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto'
import { inspect } from 'node:util'
import {
  ApiKey, generateApiKey, identityOfCertificate, identityOfPublicKey, isApiKeyString, isIdentity, parseApiKey
} from '../../../../shared/minkms/keys.js'
import { InvalidApiKeyError, InvalidCertificateError } from '../../../../shared/minkms/errors.js'
import { clientCertificate } from '../../../../shared/minkms/certificate.js'
import { KEY_VECTORS } from './fixtures/vectors.js'

for (const v of KEY_VECTORS) {
  t.test(`${v.kind} ${v.curve ?? 'Ed25519'} key gives the reference identity`, async t => {
    const key = parseApiKey(v.key)
    t.equal(key.identity, v.identity)
    t.equal(key.kind, v.kind)
    t.equal(key.curve, v.curve)
    t.equal(identityOfPublicKey(key.publicKey), v.identity)
    t.equal(identityOfPublicKey(key.privateKey), v.identity, 'a private key is reduced to its public half')
    t.equal(key.privateKey.asymmetricKeyType, v.kind === 'k1' ? 'ed25519' : 'ec')
    t.ok(isApiKeyString(v.key))
    t.ok(isIdentity(v.identity))
    // The key pair works: a signature made with the private key verifies with the public key.
    const data = Buffer.from('minkms')
    const sig = v.kind === 'k1' ? sign(null, data, key.privateKey) : createSign('sha256').update(data).sign(key.privateKey)
    t.ok(v.kind === 'k1' ? verify(null, data, key.publicKey, sig) : createVerify('sha256').update(data).verify(key.publicKey, sig))
  })
}

t.test('the secret never appears in string, JSON or inspect forms', async t => {
  for (const v of KEY_VECTORS) {
    const key = parseApiKey(v.key)
    const secret = v.key.slice(3)
    const forms = [String(key), `${key}`, JSON.stringify(key), JSON.stringify({ key }), inspect(key), inspect({ nested: { key } }, { depth: 5, showHidden: true })]
    for (const f of forms) {
      t.notMatch(f, secret, 'no secret')
      t.match(f, `${v.kind}:***`)
      t.match(f, v.identity)
    }
    t.same(Object.keys(key).sort(), ['identity', 'kind', 'publicKey', ...(v.curve === undefined ? [] : ['curve'])].sort(), 'no enumerable private key')
  }
})

t.test('invalid keys are rejected with a reason and without echoing the key', async t => {
  const cases: Array<[string, RegExp]> = [
    ['', /must start with "k1:" or "k2:"/],
    ['k3:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw', /must start with "k1:" or "k2:"/],
    ['h1:l4AoVm6xKAVGsfo8J_ttCOC6Odgq3GJLHg5NtAdOAr0', /got an identity/],
    ['hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40=', /got an HSM key/],
    ['k1:xZnpcYtPdVMNLBBRaUO5HPEoK/jVrcc3MWR8BshkjJw', /not base64url/],
    ['k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw=', /not base64url/],
    ['k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJx', /not canonical/],
    ['k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8Bshk', /32-byte Ed25519 seed, got 30 bytes/],
    ['k2:q0B1BZ069Sk3-pBun983nLbQUOSR_j0ltnkfG4nPrE0AAAA', /32, 48 or 66-byte ECDSA scalar.*got 35 bytes/],
    ['k2:' + Buffer.alloc(32).toString('base64url'), /not a valid P-256 private scalar/],
    ['k2:' + Buffer.alloc(66, 0xff).toString('base64url'), /not a valid P-521 private scalar/]
  ]
  for (const [input, reason] of cases) {
    const err = t.throws(() => parseApiKey(input), InvalidApiKeyError) as InvalidApiKeyError
    t.match(err.message, reason)
    t.equal(err.code, 'SHR_MINKMS_INVALID_API_KEY')
    if (input.length > 3) t.notMatch(err.message, input.slice(3), 'message does not echo the key')
    t.notOk(isApiKeyString(input))
  }
  t.throws(() => parseApiKey(42 as unknown as string), { message: 'API key must be a string' })
  t.notOk(isApiKeyString(undefined))
})

t.test('isIdentity checks syntax', async t => {
  t.notOk(isIdentity('h1:short'))
  t.notOk(isIdentity('k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'))
  t.notOk(isIdentity('h1:l4AoVm6xKAVGsfo8J_ttCOC6Odgq3GJLHg5NtAdOAr1'), 'non-canonical last character')
  t.notOk(isIdentity(null))
})

t.test('generated keys parse back to the same identity', async t => {
  for (const [kind, curve, len] of [['k2', undefined, 43], ['k1', undefined, 43], ['k2', 'P-384', 64], ['k2', 'P-521', 88]] as const) {
    const g = curve === undefined ? generateApiKey(kind) : generateApiKey(kind, curve)
    t.match(g.key, new RegExp(`^${kind}:[A-Za-z0-9_-]{${len}}$`))
    t.equal(parseApiKey(g.key).identity, g.identity)
    t.ok(isIdentity(g.identity))
  }
  t.notSame(generateApiKey().key, generateApiKey().key, 'random')
  t.equal(parseApiKey(generateApiKey().key).curve, 'P-256', 'default is k2 P-256 like minkms add-identity')
})

t.test('identity of a certificate is the identity of its key', async t => {
  const key = parseApiKey(KEY_VECTORS[1].key)
  const { certPem } = await clientCertificate(key)
  const x = new X509Certificate(certPem)
  t.equal(identityOfCertificate(certPem), key.identity, 'PEM')
  t.equal(identityOfCertificate(x), key.identity, 'X509Certificate')
  t.equal(identityOfCertificate(x.raw), key.identity, 'DER')
  t.equal(identityOfCertificate({ raw: x.raw }), key.identity, 'TLS peer certificate object')
  t.equal(identityOfCertificate(`junk before\n${certPem}${certPem}`), key.identity, 'first cert of a bundle')
  t.equal(identityOfCertificate(x), identityOfPublicKey(x.publicKey))
  t.throws(() => identityOfCertificate('not a cert'), InvalidCertificateError)
  t.throws(() => identityOfCertificate(x.raw.subarray(0, 100)), { code: 'SHR_MINKMS_INVALID_CERTIFICATE' })
  t.throws(() => identityOfCertificate(Buffer.from('0500', 'hex')), InvalidCertificateError)
  t.throws(() => identityOfPublicKey(createSecretKey(Buffer.alloc(16))), TypeError)
})

t.test('ApiKey can wrap an existing private key', async t => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const k = new ApiKey('k1', privateKey)
  t.equal(k.identity, identityOfPublicKey(privateKey))
  t.equal(k.curve, undefined)
})
