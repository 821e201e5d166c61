import t from 'tap'
import { maskSecret } from '../../../../shared/secrets/fingerprint.js'
import { redactText } from '../../../../shared/secrets/redact-text.js'
import { Secret } from '../../../../shared/secrets/secret.js'

const KEY = 'agent-key'
const HSM = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='

t.test('every occurrence of every secret is replaced by ***<fingerprint>', async t => {
  const out = redactText('pw=hunter2 again hunter2; token=abc.def', ['hunter2', new Secret('abc.def')], { key: KEY })
  t.equal(out, `pw=${maskSecret('hunter2', KEY)} again ${maskSecret('hunter2', KEY)}; token=${maskSecret('abc.def', KEY)}`)
  t.notMatch(out, 'hunter2')
})

t.test('longest first, one pass: a replacement is never matched again', async t => {
  const out = redactText('value: abcdef', ['abc', 'abcdef', '***'], { key: KEY })
  t.equal(out, `value: ${maskSecret('abcdef', KEY)}`)
})

t.test('regex characters in secrets are literal', async t => {
  t.equal(redactText('a.b a+b (x)', ['a+b', '(x)']), 'a.b *** ***')
})

t.test('source forms show the fingerprint of the secret they belong to', async t => {
  const out = redactText('A="s\\"ecret" B=s"ecret', [{ text: '"s\\"ecret"', secret: 's"ecret' }, 's"ecret'], { key: KEY })
  t.equal(out, `A=${maskSecret('s"ecret', KEY)} B=${maskSecret('s"ecret', KEY)}`)
})

t.test('key lookalikes are masked even when not listed, unless patterns are off', async t => {
  t.equal(redactText(`MINIO_KMS_HSM_KEY=${HSM}`, [], { key: KEY }), `MINIO_KMS_HSM_KEY=${maskSecret(HSM, KEY)}`)
  t.equal(redactText(`x ${HSM}`, [], { patterns: false }), `x ${HSM}`)
  t.equal(redactText('nothing secret', ['', '']), 'nothing secret')
})
