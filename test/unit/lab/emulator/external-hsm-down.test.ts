// The `external-hsm-down` fault's HSM: sealing goes to the external Key Manager HSM as usual;
// unsealing fails as a failover that reached no server, naming each one, without a call.
import t from 'tap'
import { ExternalHsmDown } from '../../../lab/emulator/external-hsm-down.js'
import type { Hsm, SealedRek } from '../../../lab/emulator/hsm.js'

class RecordingHsm implements Hsm {
  readonly name = 'hsm:minio:minkms'
  readonly calls: string[] = []
  async seal (rek: Buffer): Promise<SealedRek> {
    this.calls.push('seal')
    return { hsm: this.name, type: 'minkms', createdAt: '', enclave: 'e', key: 'k', version: 1, ciphertext: rek.toString('base64') }
  }

  async unseal (entry: SealedRek): Promise<Buffer> {
    this.calls.push('unseal')
    return Buffer.from(entry.ciphertext, 'base64')
  }

  rootKeySeed (): Buffer {
    return Buffer.alloc(32, 9)
  }
}

t.test('seals through, cannot unseal', async (t) => {
  const inner = new RecordingHsm()
  const hsm = new ExternalHsmDown(inner, ['10.77.0.51:7373', '10.77.0.52:7373'])
  t.equal(hsm.name, 'hsm:minio:minkms', 'the same HSM as minkms names it')
  const rek = Buffer.alloc(32, 7)
  const entry = await hsm.seal(rek)
  t.same(entry, await inner.seal(rek), 'the entry the external HSM made')
  t.same(hsm.rootKeySeed(), inner.rootKeySeed(), 'the root key seed of the external HSM (derived without a call)')
  await t.rejects(hsm.unseal(entry), {
    message: 'no external Key Manager server reachable: 10.77.0.51:7373: unreachable from this node (fault injection: external-hsm-down); ' +
      '10.77.0.52:7373: unreachable from this node (fault injection: external-hsm-down)'
  })
  t.same(inner.calls, ['seal', 'seal'], 'no unseal reached the external HSM')
})
