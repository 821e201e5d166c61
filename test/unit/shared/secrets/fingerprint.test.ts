import t from 'tap'
import { FINGERPRINT_LENGTH, createFingerprintKey, fingerprint, maskSecret } from '../../../../shared/secrets/fingerprint.js'
import { Secret } from '../../../../shared/secrets/secret.js'

const HSM = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='

t.test('HMAC-SHA256 under the key, first 8 base64url characters', async t => {
  // Reference values computed with `createHmac('sha256', 'agent-key').update(v).digest('base64url')`.
  t.equal(fingerprint(HSM, 'agent-key'), 'O3HSkTwf')
  t.equal(fingerprint(new Secret('s3cr3t'), 'agent-key'), 'QaR4yMqX')
  t.equal(fingerprint(HSM, Buffer.from('agent-key')), 'O3HSkTwf', 'string and bytes keys agree')
  t.equal(FINGERPRINT_LENGTH, 8)
})

t.test('same value and key give the same fingerprint; another key another one', async t => {
  const k1 = createFingerprintKey()
  const k2 = createFingerprintKey()
  t.equal(k1.length, 32)
  t.equal(fingerprint('x', k1), fingerprint('x', k1))
  t.not(fingerprint('x', k1), fingerprint('x', k2))
  t.not(fingerprint('x', k1), fingerprint('y', k1))
  t.match(fingerprint('x', k1), /^[A-Za-z0-9_-]{8}$/)
})

t.test('maskSecret shows *** and the fingerprint, never the value', async t => {
  t.equal(maskSecret(HSM, 'agent-key'), '***O3HSkTwf')
  t.equal(maskSecret(HSM), '***')
  t.throws(() => fingerprint('x', ''), TypeError)
  t.throws(() => fingerprint('x', new Uint8Array(0)), TypeError)
})
