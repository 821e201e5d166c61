// Provisioning the external Key Manager against the in-memory MinkmsApi: what a first run creates,
// that a second run with the kept key creates nothing, a refused admin key, an identity of the
// wrong kind, a concurrent run's objects, and that no message holds a key.
import t from 'tap'
import { provisionExternalHsm, provisionExternalHsmAt } from '../../../../coordinator/hsm/provision.js'
import { EnclaveNotFoundError, KeyNotFoundError, MinkmsRequestError, MinkmsUnreachableError } from '../../../../shared/minkms/errors.js'
import { FakeMinkmsApi } from '../../../../shared/minkms/fake-minkms-api.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { Secret } from '../../../../shared/secrets/secret.js'

const REQ = { enclave: 'aistor-key-manager', key: 'aistor-key-manager-hsm' }

t.test('a first run creates all three; a second run with the kept key creates nothing', async (t) => {
  const api = new FakeMinkmsApi()
  const first = await provisionExternalHsm(api, REQ)
  t.same({ enclave: first.enclave, identity: first.identity, key: first.key, generated: first.generated },
    { enclave: 'created', identity: 'created', key: 'created', generated: true })
  t.match(first.identityId, /^h1:[A-Za-z0-9_-]{43}$/)
  t.ok(first.apiKey instanceof Secret, 'the generated key comes back as a Secret')
  t.equal(JSON.stringify(first).includes(first.apiKey.reveal()), false, 'no string form of the result holds the key')
  t.same(api.writes(), ['createEnclave aistor-key-manager', `createIdentity ${first.identityId}`, 'createKey aistor-key-manager-hsm'])
  t.same((await api.identityStatus(REQ.enclave, first.identityId)).privilege, 'Admin', 'the identity is Admin of the enclave')
  t.notOk(api.calls.some((c) => c.arg === first.apiKey.reveal()), 'only the h1: identity was sent')

  api.calls.length = 0
  const second = await provisionExternalHsm(api, { ...REQ, apiKey: first.apiKey })
  t.same({ enclave: second.enclave, identity: second.identity, key: second.key, generated: second.generated },
    { enclave: 'found', identity: 'found', key: 'found', generated: false })
  t.equal(second.identityId, first.identityId)
  t.ok(second.apiKey.equals(first.apiKey), 'the kept key comes back')
  t.same(api.writes(), [], 'the second run wrote nothing')
})

t.test('existing enclave and key are fine; only the identity is made', async (t) => {
  const api = new FakeMinkmsApi().seed(REQ.enclave, { keys: [REQ.key] })
  const r = await provisionExternalHsm(api, REQ)
  t.same([r.enclave, r.identity, r.key], ['found', 'created', 'found'])
  t.same(api.writes(), [`createIdentity ${r.identityId}`])
})

t.test('a wrong admin key: CRD_HSM_ADMIN_KEY_REFUSED before anything is created', async (t) => {
  const api = new FakeMinkmsApi()
  api.root = false
  const admin = generateApiKey()
  const err = await provisionExternalHsm(api, REQ, { where: 'kms0:7373', adminIdentity: admin.identity, secrets: [admin.key] }).catch((e: unknown) => e)
  t.match(err, { code: 'CRD_HSM_ADMIN_KEY_REFUSED', statusCode: 400 })
  const message = (err as Error).message
  t.match(message, /enclave status: the external Key Manager \(kms0:7373\) refused the admin API key \(identity h1:/)
  t.match(message, /access denied: insufficient permissions; give a root\/SysAdmin API key .*nothing was created$/)
  t.same(api.writes(), [])
  t.notMatch(message, admin.key)
})

t.test('a refusal after a create says what was created', async (t) => {
  const api = new FakeMinkmsApi().failNext('createIdentity', new MinkmsRequestError(403, 'access denied: insufficient permissions'))
  const err = await provisionExternalHsm(api, REQ).catch((e: unknown) => e)
  t.match(err, { code: 'CRD_HSM_PROVISION_FAILED', message: /identity create on the external Key Manager: access denied.*created so far: enclave 'aistor-key-manager'$/ })
})

t.test('an identity there as User, or as a service account: refused with what to do', async (t) => {
  const kept = generateApiKey()
  for (const existing of ['User', { privilege: 'Admin', isServiceAccount: true }] as const) {
    const api = new FakeMinkmsApi().seed(REQ.enclave, { identities: { [kept.identity]: existing }, keys: [REQ.key] })
    const err = await provisionExternalHsm(api, { ...REQ, apiKey: kept.key }).catch((e: unknown) => e)
    t.match(err, { code: 'CRD_HSM_PROVISION_FAILED', message: /exists in enclave 'aistor-key-manager' as .*not as its Admin; remove it there or start with a new API key/ })
    t.same(api.writes(), [], 'nothing written')
  }
})

t.test('a concurrent run made the objects between lookup and create: found', async (t) => {
  const api = new FakeMinkmsApi().seed(REQ.enclave, { keys: [REQ.key] })
  api.failNext('enclaveStatus', new EnclaveNotFoundError())
  api.failNext('keyStatus', new KeyNotFoundError())
  const r = await provisionExternalHsm(api, REQ)
  t.same([r.enclave, r.identity, r.key], ['found', 'created', 'found'], 'the 409 of each create counts as found')
})

t.test('unreachable: CRD_HSM_EXTERNAL_UNREACHABLE naming the server and why', async (t) => {
  const api = new FakeMinkmsApi().failNext('enclaveStatus', new MinkmsUnreachableError([{ host: 'kms0:7373', cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }]))
  const err = await provisionExternalHsm(api, REQ, { where: 'kms0:7373' }).catch((e: unknown) => e)
  t.match(err, { code: 'CRD_HSM_EXTERNAL_UNREACHABLE', statusCode: 502, message: /enclave status: the external Key Manager \(kms0:7373\) is unreachable: .*ECONNREFUSED.*nothing was created$/ })
})

t.test('a server text holding a key is masked', async (t) => {
  const kept = generateApiKey()
  const api = new FakeMinkmsApi().failNext('keyStatus', new MinkmsRequestError(500, `internal: bad key ${kept.key}`))
  const err = await provisionExternalHsm(api, { ...REQ, apiKey: kept.key }).catch((e: unknown) => e)
  t.match(err, { code: 'CRD_HSM_PROVISION_FAILED' })
  t.notMatch((err as Error).message, kept.key)
})

t.test('provisionExternalHsmAt: a malformed admin key is refused before connecting', async (t) => {
  const bad = 'k1:not-a-key-at-all-but-long-enough-to-look-like-one'
  const err = await provisionExternalHsmAt({ servers: ['127.0.0.1:1'], adminKey: new Secret(bad) }, REQ).catch((e: unknown) => e)
  t.match(err, { code: 'CRD_HSM_ADMIN_KEY_REFUSED', message: /the admin API key is not a k1:\/k2: API key .*nothing was created$/ })
  t.notMatch((err as Error).message, bad)
})
