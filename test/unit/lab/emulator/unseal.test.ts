// REK sealing and unsealing with doubles of the Hsm port (soft HSM real, "external" a fake).
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { Hsm, SealedRek } from '../../../lab/emulator/hsm.js'
import { EmulatorLog } from '../../../lab/emulator/log.js'
import { RekStore } from '../../../lab/emulator/rek-store.js'
import { SoftHsm } from '../../../lab/emulator/soft-hsm.js'
import { unsealRek } from '../../../lab/emulator/unseal.js'

/** An external-like HSM that keeps the REK in memory and can be told to fail. */
class FakeHsm implements Hsm {
  readonly name = 'hsm:minio:minkms'
  failSeal = false
  failUnseal = false
  async seal (rek: Buffer): Promise<SealedRek> {
    if (this.failSeal) throw new Error('403 access denied')
    return { hsm: this.name, type: 'minkms', createdAt: '', enclave: 'e', key: 'k', version: 1, ciphertext: rek.toString('base64') }
  }

  async unseal (entry: SealedRek): Promise<Buffer> {
    if (this.failUnseal) throw new Error('unreachable')
    return Buffer.from(entry.ciphertext, 'base64')
  }

  rootKeySeed (): Buffer {
    return Buffer.alloc(32, 1)
  }
}

function logs (): { log: EmulatorLog, lines: string[] } {
  const lines: string[] = []
  return { log: new EmulatorLog((l) => lines.push(l)), lines }
}

t.test('fresh, reopen, add, fall back, refuse', async (t) => {
  const dir = t.testdir()
  const store = new RekStore(join(dir, 'rek.json'))
  const soft = new SoftHsm(Buffer.alloc(32, 1))
  const ext = new FakeHsm()
  const { log, lines } = logs()

  const fresh = await unsealRek(store, [soft], false, log)
  t.same(fresh.sealed, ['hsm:minio:soft'])
  t.same(await store.names(), ['hsm:minio:soft'])
  t.notMatch(readFileSync(join(dir, 'rek.json'), 'utf8'), fresh.rek.toString('base64'), 'the REK is not stored in clear')
  t.same(readdirSync(dir), ['rek.json'], 'no temp files left behind')

  const added = await unsealRek(store, [soft, ext], true, log)
  t.same(added.rek, fresh.rek)
  t.same([added.unsealedBy, added.sealed], ['hsm:minio:soft', ['hsm:minio:minkms']])

  const wrongSoft = new SoftHsm(Buffer.alloc(32, 2))
  const fallback = await unsealRek(store, [wrongSoft, ext], true, log)
  t.same(fallback.rek, fresh.rek)
  t.equal(fallback.unsealedBy, 'hsm:minio:minkms')
  t.match(lines.join('\n'), /WARN {2}HSM hsm:minio:soft failed to unseal the root encryption key: wrong HSM key/)

  ext.failUnseal = true
  await t.rejects(unsealRek(store, [wrongSoft, ext], true, log), { message: /^kms: failed to unseal the root encryption key: hsm:minio:soft: wrong HSM key.*; hsm:minio:minkms: unreachable$/ })
  await t.rejects(unsealRek(store, [], true, log), { message: 'kms: no HSM provided' })
})

t.test('a failing seal of a new entry is fatal', async (t) => {
  const store = new RekStore(join(t.testdir(), 'rek.json'))
  const ext = new FakeHsm()
  ext.failSeal = true
  await t.rejects(unsealRek(store, [new SoftHsm(Buffer.alloc(32, 1)), ext], false, logs().log),
    { name: 'FatalError', message: "kms: failed to seal the root encryption key with HSM 'hsm:minio:minkms': 403 access denied" })
})

t.test('corrupt entries are refused', async (t) => {
  const dir = t.testdir({ 'rek.json': JSON.stringify({ version: 1, entries: { x: { hsm: 'y' } } }) })
  await t.rejects(new RekStore(join(dir, 'rek.json')).load(), { message: /malformed entry 'x'/ })
})
