// The probe key store: sealed at rest, kept across instances, refusing a file sealed with another
// key or not a store at all (CRD_STATE_SEALED), never quoting the key.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { FileProbeKeyStore, MemoryProbeKeyStore, sealedBoxSealer } from '../../../../coordinator/gate/probe-key-store.js'
import { coordinatorBoxWithKey } from '../../../../coordinator/store/coordinator-sealing.js'

const KEY = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'
const sealer = (k: Buffer): ReturnType<typeof sealedBoxSealer> => sealedBoxSealer(coordinatorBoxWithKey(k))

t.test('put, get across instances; sealed and 0600 on disk', async t => {
  const dir = t.testdir({})
  const boxKey = randomBytes(32)
  const a = new FileProbeKeyStore(dir, sealer(boxKey))
  t.equal(await a.get('c1'), undefined, 'nothing before the first put')
  await a.put('c1', KEY)
  await a.put('c2', 'k1:other')
  const b = new FileProbeKeyStore(dir, sealer(boxKey))
  t.equal(await b.get('c1'), KEY)
  t.equal(await b.get('c2'), 'k1:other')
  const text = await readFile(a.path, 'utf8')
  t.notOk(text.includes(KEY.slice(3)), 'not in clear')
  t.equal((await stat(a.path)).mode & 0o777, 0o600)
})

t.test('another key, a changed value or a foreign file: CRD_STATE_SEALED without the key', async t => {
  const dir = t.testdir({})
  await new FileProbeKeyStore(dir, sealer(randomBytes(32))).put('c1', KEY)
  const other = new FileProbeKeyStore(dir, sealer(randomBytes(32)))
  const err = await other.get('c1').catch((e: unknown) => e as Error)
  t.match(err, { code: 'CRD_STATE_SEALED', statusCode: 500, message: /probe key of cluster c1 .* cannot be opened/ })
  t.notOk(String((err as Error).message).includes(KEY.slice(3)))
  await writeFile(other.path, '{"hello": 1}')
  await t.rejects(other.get('c1'), { code: 'CRD_STATE_SEALED', message: /is not a probe key store/ })
  await writeFile(other.path, 'not json')
  await t.rejects(other.put('c1', KEY), { code: 'CRD_STATE_SEALED' }, 'a put does not overwrite what it cannot read')
})

t.test('the memory store', async t => {
  const m = new MemoryProbeKeyStore()
  t.equal(await m.get('c1'), undefined)
  await m.put('c1', KEY)
  t.equal(await m.get('c1'), KEY)
})
