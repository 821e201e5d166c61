// The adopted root key store, the same tests against memory and SQLite: adopt, replace, drop,
// hand over once (atomically, also across two connections), the key only sealed in the file (its
// bytes, WAL included, hold no key), a sealed value moved to another row refused.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { boxSealer } from '../../../../coordinator/engine/sealer.js'
import { coordinatorBoxWithKey } from '../../../../coordinator/store/coordinator-sealing.js'
import { MemoryRootKeyStore, rootKeyView, type RootKeyStore } from '../../../../coordinator/store/root-key-store.js'
import { SqliteRootKeyStore } from '../../../../coordinator/store/sqlite-root-key-store.js'
import { STORE_FILE } from '../../../../coordinator/store/sqlite-db.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { Secret } from '../../../../shared/secrets/secret.js'

const A = generateApiKey('k1')
const B = generateApiKey('k1')
const sealer = boxSealer(coordinatorBoxWithKey(randomBytes(32)))

const kinds: Array<[string, (t: Test) => { store: RootKeyStore, dir?: string }]> = [
  ['memory', () => ({ store: new MemoryRootKeyStore() })],
  ['sqlite', (t) => {
    const dir = t.testdir({})
    const store = SqliteRootKeyStore.inStateDir(dir, sealer)
    t.teardown(() => store.close())
    return { store, dir }
  }]
]

for (const [kind, make] of kinds) {
  t.test(`${kind}: adopt, read back, replace, drop`, async (t) => {
    const { store } = make(t)
    t.equal(await store.get('c1'), undefined)
    await store.adopt('c1', A.identity, new Secret(A.key), 1000)
    const got = await store.get('c1')
    t.ok(got?.apiKey.equals(A.key))
    t.same(got === undefined ? undefined : rootKeyView(got), { identity: A.identity, adoptedAt: 1000 })
    t.equal(await store.get('c2'), undefined, 'per cluster')
    await store.adopt('c1', B.identity, new Secret(B.key), 2000)
    t.equal((await store.get('c1'))?.identity, B.identity, 'another key replaces it')
    await store.drop('c1')
    t.equal(await store.get('c1'), undefined)
  })

  t.test(`${kind}: handed over once; the same key adopted again stays handed over, another one is new`, async (t) => {
    const { store } = make(t)
    t.same(await store.handOver('c1', 1), { handedOver: false, reason: 'none' })
    await store.adopt('c1', A.identity, new Secret(A.key), 1000)
    const first = await store.handOver('c1', 5000)
    t.ok(first.handedOver && first.key.apiKey.equals(A.key))
    t.same(await store.handOver('c1', 6000), { handedOver: false, reason: 'already', identity: A.identity, handedOverAt: 5000 })
    t.same(rootKeyView((await store.get('c1'))!), { identity: A.identity, adoptedAt: 1000, handedOverAt: 5000 })
    await store.adopt('c1', A.identity, new Secret(A.key), 7000)
    t.same(rootKeyView((await store.get('c1'))!), { identity: A.identity, adoptedAt: 1000, handedOverAt: 5000 }, 'the same key again: unchanged')
    await store.adopt('c1', B.identity, new Secret(B.key), 8000)
    const second = await store.handOver('c1', 9000)
    t.ok(second.handedOver && second.key.apiKey.equals(B.key), 'a new key is handed over once again')
  })
}

t.test('sqlite: the file holds the key only sealed; two connections hand it over once; a moved value does not open', async (t) => {
  const dir = t.testdir({})
  const one = SqliteRootKeyStore.inStateDir(dir, sealer)
  const two = SqliteRootKeyStore.inStateDir(dir, sealer)
  t.teardown(async () => { await one.close(); await two.close() })
  await one.adopt('c1', A.identity, new Secret(A.key), 1000)
  await one.adopt('c2', B.identity, new Secret(B.key), 1000)
  const both = await Promise.all([one.handOver('c1', 2), two.handOver('c1', 3)])
  t.equal(both.filter((h) => h.handedOver).length, 1, 'exactly one of two connections got it')
  for (const f of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, f)).toString('latin1')
    for (const k of [A, B]) t.notOk(bytes.includes(k.key.slice(3)), `${f} holds no key in clear`)
  }
  t.ok(readdirSync(dir).some((f) => readFileSync(join(dir, f)).toString('latin1').includes(A.identity)), 'the identity is stored in clear (it is not secret)')
  const raw = new Database(join(dir, STORE_FILE))
  const sealedOfC2 = (raw.prepare('SELECT sealed FROM cluster_root_keys WHERE cluster = ?').get('c2') as { sealed: string }).sealed
  raw.prepare('UPDATE cluster_root_keys SET sealed = ? WHERE cluster = ?').run(sealedOfC2, 'c1')
  raw.close()
  await t.rejects(one.get('c1'), { code: 'CRD_STATE_SEALED', message: /sealed for another cluster or identity/ })
  const other = SqliteRootKeyStore.inStateDir(dir, boxSealer(coordinatorBoxWithKey(randomBytes(32))))
  t.teardown(() => other.close())
  await t.rejects(other.get('c2'), { code: 'CRD_STATE_SEALED', message: /sealed with another coordinator key/ })
})
