import t from 'tap'
import { formatHsmKey, generateHsmKey, parseHsmKey } from '../../../lab/emulator/hsm-key.js'
import { deriveRootApiKey } from '../../../lab/emulator/root-key.js'
import { parseApiKey } from '../../../../shared/minkms/keys.js'

t.test('parse', async (t) => {
  const key = generateHsmKey()
  t.match(key, /^hsm:aes256:[A-Za-z0-9+/]{43}=$/)
  const p = parseHsmKey(key)
  t.ok(p.ok)
  if (p.ok) t.equal(formatHsmKey(p.key), key)
  t.same(parseHsmKey('hsm:aes256:' + Buffer.alloc(16).toString('base64')), { ok: false, reason: 'the key must decode to 32 bytes, not 16' })
  t.notOk(parseHsmKey('aes256:abc').ok)
  t.notOk(parseHsmKey('hsm:aes256:!!!').ok)
  const bad = parseHsmKey('hsm:aes256:secretsecret')
  t.notOk(bad.ok)
  if (!bad.ok) t.notMatch(bad.reason, 'secretsecret')
})

t.test('root key derivation is deterministic and a valid k1 key', async (t) => {
  const key = Buffer.alloc(32, 7)
  const a = deriveRootApiKey(key)
  t.equal(a, deriveRootApiKey(Buffer.alloc(32, 7)))
  t.not(a, deriveRootApiKey(Buffer.alloc(32, 8)))
  t.match(parseApiKey(a).identity, /^h1:/)
  t.equal(parseApiKey(a).kind, 'k1')
})
