// The sealed box both daemons use: AES-256-GCM, a 0600 key file named by the daemon, the
// daemon's own error, derived keys bound to the daemon's label.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SealedBox, type SealingKind } from '../../../../shared/secrets/sealed-box.js'

class KindError extends Error {
  override name = 'KindError'
  constructor (readonly what: string) { super(`sealed ${what}`) }
}
const KIND: SealingKind = { keyFile: 'test.key', label: 'keyroll-test', error: (what) => new KindError(what) }

t.test('seal and unseal, as bytes and as text', async t => {
  const box = SealedBox.withKey(randomBytes(32), KIND)
  const plain = 'MINIO_KMS_HSM_KEY=hsm:aes256:secret'
  const sealed = box.seal(plain)
  t.notOk(sealed.includes(Buffer.from('hsm:aes256')), 'no clear text in the sealed form')
  t.equal(sealed[0], 1, 'version byte')
  t.equal(box.unseal(sealed).toString(), plain)
  t.not(box.seal(plain).toString('hex'), sealed.toString('hex'), 'a fresh IV each time')
  const text = box.sealText(plain)
  t.match(text, /^[A-Za-z0-9+/]+=*$/, 'base64 text')
  t.equal(box.unsealText(text), plain)
})

t.test('corrupt content or another key throw the kind\'s error naming what', async t => {
  const box = SealedBox.withKey(randomBytes(32), KIND)
  const other = SealedBox.withKey(randomBytes(32), KIND)
  const sealed = box.seal('x')
  t.throws(() => other.unseal(sealed, 'backup 3'), { name: 'KindError', what: 'backup 3' })
  const flipped = Buffer.from(sealed)
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1
  t.throws(() => box.unseal(flipped), { name: 'KindError', what: 'content' }, 'a flipped bit')
  t.throws(() => box.unseal(Buffer.from([2, ...sealed.subarray(1)])), { name: 'KindError', what: 'content' }, 'an unknown version')
  t.throws(() => box.unseal(Buffer.alloc(5)), { name: 'KindError', what: 'content' }, 'too short')
  t.throws(() => SealedBox.withKey(randomBytes(16), KIND), /32 bytes/)
})

t.test('open creates the named key file 0600 once and reuses it', async t => {
  const dir = t.testdir({})
  const a = await SealedBox.open(dir, KIND)
  const path = join(dir, 'test.key')
  t.equal(statSync(path).mode & 0o777, 0o600)
  t.equal(readFileSync(path).length, 32)
  const b = await SealedBox.open(dir, KIND)
  t.equal(b.unsealText(a.sealText('same key')), 'same key', 'a second open reads the same key')
  writeFileSync(path, 'short')
  await t.rejects(SealedBox.open(dir, KIND), { name: 'KindError', what: path }, 'a key file of the wrong size')
})

t.test('derived keys differ by purpose and by label', async t => {
  const key = randomBytes(32)
  const a = SealedBox.withKey(key, KIND)
  const b = SealedBox.withKey(key, { ...KIND, label: 'keyroll-other' })
  t.equal(a.derive('x').length, 32)
  t.not(a.derive('x').toString('hex'), a.derive('y').toString('hex'))
  t.not(a.derive('x').toString('hex'), b.derive('x').toString('hex'))
})
