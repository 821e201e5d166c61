import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { decryptWith, encryptWith } from '../../../lab/emulator/key-crypto.js'
import { KeyDatabase } from '../../../lab/emulator/key-database.js'
import { listPage } from '../../../lab/emulator/list-page.js'

const REK = Buffer.alloc(32, 5)

t.test('persists, seals material, enforces existence', async (t) => {
  const path = join(t.testdir(), 'db.json')
  const db = await KeyDatabase.open(path, REK)
  t.equal(await db.createEnclave('e', 'h1:x'), 'ok')
  t.equal(await db.createEnclave('e', 'h1:x'), 'enclave-exists')
  t.equal(await db.createKey('nope', 'k', 'AES256', false, 'h1:x'), 'enclave-missing')
  t.equal(await db.createKey('e', 'k', 'AES256', true, 'h1:x'), 'key-missing', 'addVersion needs the key')
  // Concurrent changes are serialised, none is lost.
  t.same(await Promise.all(['a', 'b', 'c'].map(async (n) => await db.createKey('e', n, 'AES256', false, 'h1:x'))), ['ok', 'ok', 'ok'])
  t.equal(await db.createKey('e', 'a', 'AES256', true, 'h1:x'), 'ok')
  const v2 = db.keyVersion('e', 'a', 0)
  t.equal(v2?.version, 2)
  t.notMatch(readFileSync(path, 'utf8'), v2?.material.toString('base64') ?? '-', 'material is sealed on disk')

  const again = await KeyDatabase.open(path, REK)
  t.same(again.keyNames('e'), ['a', 'b', 'c'])
  t.same(again.keyVersion('e', 'a', 2)?.material, v2?.material)
  t.equal(await again.deleteKey('e', 'a', 2, false), 'ok')
  t.equal(again.keyVersion('e', 'a', 0)?.version, 1)
  t.equal(await again.deleteKey('e', 'a', 0, true), 'ok')
  t.equal(again.key('e', 'a'), undefined)
  await t.rejects(async () => { (await KeyDatabase.open(path, Buffer.alloc(32, 6))).keyVersion('e', 'b', 1) }, 'a wrong REK cannot open the material')
})

t.test('ciphertexts are bound to key, version and associated data', async (t) => {
  const db = await KeyDatabase.open(join(t.testdir(), 'db.json'), REK)
  await db.createEnclave('e', '')
  await db.createKey('e', 'k', 'AES256', false, '')
  await db.createKey('e', 'k', 'AES256', true, '')
  const v1 = db.keyVersion('e', 'k', 1)
  const v2 = db.keyVersion('e', 'k', 2)
  if (v1 === undefined || v2 === undefined) throw new Error('missing versions')
  const ct = encryptWith('e', v1, Buffer.from('x'), Buffer.from('ad'))
  t.same(decryptWith('e', v1, ct, Buffer.from('ad')), Buffer.from('x'))
  t.equal(decryptWith('e', v1, ct, Buffer.from('other')), undefined)
  t.equal(decryptWith('e', v2, ct, Buffer.from('ad')), undefined)
  t.equal(decryptWith('f', v1, ct, Buffer.from('ad')), undefined)
  t.equal(decryptWith('e', v1, Buffer.alloc(0), Buffer.from('ad')), undefined)
})

t.test('list pages', async (t) => {
  const names = ['a1', 'a2', 'a3', 'b1']
  t.same(listPage(names, { prefix: 'a', continueAt: '', limit: 2 }), { items: ['a1', 'a2'], continueAt: 'a3' })
  t.same(listPage(names, { prefix: 'a', continueAt: 'a3', limit: 2 }), { items: ['a3'], continueAt: '' })
  t.same(listPage(names, { prefix: '', continueAt: '', limit: 0 }), { items: names, continueAt: '' })
})
