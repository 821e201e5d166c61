import t from 'tap'
import {
  EnclaveExistsError, KMS_ERRORS, KeyNotFoundError, MINKMS_ERROR_CODES, MinkmsError, MinkmsRequestError,
  MinkmsUnreachableError, PermissionDeniedError, describeCause, isAlreadyExists, isMinkmsError, isNotFound,
  isPermissionDenied, isUnreachable, minkmsErrorFrom
} from '../../../../shared/minkms/errors.js'

t.test('predefined errors carry the exact minkms status and message', async t => {
  t.same(
    Object.values(KMS_ERRORS).map(e => [e.status, e.message]),
    [
      [403, 'access denied: insufficient permissions'],
      [409, 'enclave already exists'],
      [404, 'enclave does not exist'],
      [409, 'key already exists'],
      [404, 'key does not exist'],
      [404, 'policy does not exist'],
      [404, 'identity does not exist'],
      [400, 'invalid ciphertext']
    ])
})

t.test('minkmsErrorFrom maps status + message to the typed error', async t => {
  for (const spec of Object.values(KMS_ERRORS)) {
    const err = minkmsErrorFrom(spec.status, spec.message, 'node1:7373')
    t.equal(err.code, spec.code)
    t.equal(err.statusCode, spec.status)
    t.equal(err.message, spec.message)
    t.equal(err.host, 'node1:7373')
  }
  const denied = minkmsErrorFrom(403, 'access denied: insufficient permissions')
  t.ok(denied instanceof PermissionDeniedError)
  t.ok(isPermissionDenied(denied))
  t.equal(denied.name, 'PermissionDeniedError')
  t.notOk('host' in denied, 'no host when none is given')
  t.ok(minkmsErrorFrom(404, 'key does not exist') instanceof KeyNotFoundError)
  t.ok(isNotFound(minkmsErrorFrom(404, 'identity does not exist')))
  t.ok(isAlreadyExists(new EnclaveExistsError()))
})

t.test('a duplicate identity (no predefined error) counts as already existing; other 409s do not', async t => {
  const identity = minkmsErrorFrom(409, 'identity already exists', 'kms0:7373')
  t.ok(identity instanceof MinkmsRequestError, 'not one of the predefined errors')
  t.ok(isAlreadyExists(identity), 'but a create that found it there')
  t.ok(isAlreadyExists(minkmsErrorFrom(409, 'key already exists')))
  t.notOk(isAlreadyExists(minkmsErrorFrom(409, "node 'n2' is already a member of the cluster")), 'a cluster conflict is not')
  t.notOk(isAlreadyExists(minkmsErrorFrom(400, 'identity already exists')), 'nor another status')
  t.notOk(isAlreadyExists(new Error('identity already exists')), 'nor a plain error')
})

t.test('other answers become MinkmsRequestError with the server status', async t => {
  const mismatch = minkmsErrorFrom(404, 'access denied: insufficient permissions')
  t.ok(mismatch instanceof MinkmsRequestError, 'message alone does not select a predefined error')
  t.equal(mismatch.statusCode, 404)
  const empty = minkmsErrorFrom(500, '')
  t.match(empty, { code: 'SHR_MINKMS_REQUEST_FAILED', statusCode: 500, message: 'HTTP 500' })
  t.notOk(isPermissionDenied(empty))
  t.notOk(isNotFound(empty))
})

t.test('unreachable errors name hosts and keep the cause', async t => {
  const tls = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
  const one = new MinkmsUnreachableError([{ host: 'a:7373', cause: tls }])
  t.equal(one.cause, tls)
  t.equal(one.host, 'a:7373')
  t.match(one.message, 'a:7373: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)')
  t.ok(isUnreachable(one))
  t.equal(one.code, 'SHR_MINKMS_UNREACHABLE')

  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
  const two = new MinkmsUnreachableError([{ host: 'a:7373', cause: tls }, { host: 'b:7373', cause: refused }])
  t.ok(two.cause instanceof AggregateError)
  t.equal(two.host, 'a:7373,b:7373')
  t.match(two.message, /a:7373: unable to verify.*; b:7373: connect ECONNREFUSED/)
  t.equal(two.failures.length, 2)
})

t.test('describeCause follows nested causes', async t => {
  const inner = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
  t.equal(describeCause(new Error('fetch failed', { cause: inner })), 'fetch failed: socket hang up (ECONNRESET)')
  t.equal(describeCause('plain'), 'plain')
})

t.test('every code is documented, unique and prefixed', async t => {
  const codes = Object.keys(MINKMS_ERROR_CODES)
  t.equal(new Set(codes).size, codes.length)
  for (const c of codes) t.match(c, /^SHR_MINKMS_[A-Z_]+$/)
  for (const spec of Object.values(KMS_ERRORS)) t.ok(codes.includes(spec.code), `${spec.code} documented`)
  t.ok(isMinkmsError(new KeyNotFoundError(), 'SHR_MINKMS_KEY_NOT_FOUND'))
  t.ok(new KeyNotFoundError() instanceof MinkmsError)
  t.notOk(isMinkmsError(new Error('x')))
})
