// The offline stand-in for HashiCorp Vault's transit engine (hsm:hashicorp:vault): it unseals
// what it sealed while the hsm.hashicorp.vault block is unchanged, refuses once any part of the
// block changed, and never lets an auth value into an entry, a message or a log line.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { EmulatorLog } from '../../../lab/emulator/log.js'
import { RekStore } from '../../../lab/emulator/rek-store.js'
import { SoftHsm } from '../../../lab/emulator/soft-hsm.js'
import { unsealRek } from '../../../lab/emulator/unseal.js'
import type { VaultHsmConfig } from '../../../lab/emulator/vault-config.js'
import { VaultStandInHsm } from '../../../lab/emulator/vault-standin-hsm.js'

const ROLE_ID = 'role-id-5b1c0a7e'
const SECRET_ID = 'secret-id-9f2d4c61'
const CONFIG: VaultHsmConfig = { server: 'http://vault:8200', engine: 'transit', key: 'minkms-sealing-key', auth: { method: 'approle', id: ROLE_ID, secret: SECRET_ID } }
const REK = Buffer.alloc(32, 0x5a)

function noAuthValue (t: Test, text: string, what: string): void {
  t.notMatch(text, SECRET_ID, `${what}: no approle secret`)
  t.notMatch(text, ROLE_ID, `${what}: no approle id`)
}

t.test('seal and unseal round trip, also from a fresh instance of the same block', async (t) => {
  const entry = await new VaultStandInHsm(CONFIG).seal(REK)
  t.match(entry, { hsm: 'hsm:hashicorp:vault', type: 'vault-transit', server: 'http://vault:8200', engine: 'transit', key: 'minkms-sealing-key' })
  t.notMatch(entry.ciphertext, REK.toString('base64'), 'the REK is not in clear')
  noAuthValue(t, JSON.stringify(entry), 'the entry')
  t.same(await new VaultStandInHsm(CONFIG).unseal(entry), REK)
  t.same(await new VaultStandInHsm(structuredClone(CONFIG)).unseal(entry), REK, 'a restart with the same block unseals')
  const again = await new VaultStandInHsm(CONFIG).seal(REK)
  t.not(again.ciphertext, entry.ciphertext, 'a fresh nonce per seal')
})

t.test('a changed block fails to unseal, saying what changed but no auth value', async (t) => {
  const entry = await new VaultStandInHsm(CONFIG).seal(REK)
  const changes: Array<[string, VaultHsmConfig, RegExp]> = [
    ['server', { ...CONFIG, server: 'http://vault2:8200' }, /sealed by Vault http:\/\/vault:8200 \(transit engine 'transit', key 'minkms-sealing-key'\)\)$/],
    ['engine', { ...CONFIG, engine: 'transit2' }, /sealed by Vault http:\/\/vault:8200 \(transit engine 'transit'/],
    ['key', { ...CONFIG, key: 'other-key' }, /sealed by Vault .* key 'minkms-sealing-key'\)\)$/],
    ['approle secret', { ...CONFIG, auth: { method: 'approle', id: ROLE_ID, secret: 'secret-id-rotated' } }, /same server, engine and key, so the auth credentials differ\)$/],
    ['approle id', { ...CONFIG, auth: { method: 'approle', id: 'role-id-other', secret: SECRET_ID } }, /auth credentials differ/],
    ['auth method', { ...CONFIG, auth: { method: 'kubernetes', role: ROLE_ID, jwt: SECRET_ID } }, /auth credentials differ/]
  ]
  for (const [what, config, why] of changes) {
    const err = await new VaultStandInHsm(config).unseal(entry).then(() => undefined, (e: unknown) => e as Error)
    t.ok(err, `${what} changed: refused`)
    t.match(err?.message, /^Vault \S+ \(transit engine '[^']+', key '[^']+'\): the sealed root encryption key does not authenticate: the hsm.hashicorp.vault block changed since it was sealed \(/)
    t.match(err?.message, why, `${what} changed: the reason`)
    noAuthValue(t, err?.message ?? '', what)
  }
  await t.rejects(new VaultStandInHsm(CONFIG).unseal({ hsm: 'hsm:hashicorp:vault', type: 'aes256-gcm', createdAt: '', ciphertext: entry.ciphertext }),
    { message: "entry of type 'aes256-gcm' was not sealed by a Vault HSM" })
  const soft = await new SoftHsm(Buffer.alloc(32, 1)).seal(REK)
  await t.rejects(new VaultStandInHsm(CONFIG).unseal({ ...entry, ciphertext: soft.ciphertext }), { message: /does not authenticate/ }, 'another HSM\'s ciphertext does not open')
})

t.test('start-up rules with the soft HSM: sealed by both, either alone unseals, a changed block warns or is fatal', async (t) => {
  const dir = t.testdir()
  const store = new RekStore(join(dir, 'rek.json'))
  const lines: string[] = []
  const log = new EmulatorLog((l) => lines.push(l))
  const soft = new SoftHsm(Buffer.alloc(32, 1))
  const vault = new VaultStandInHsm(CONFIG)
  const changed = new VaultStandInHsm({ ...CONFIG, auth: { method: 'approle', id: ROLE_ID, secret: 'secret-id-rotated' } })

  const fresh = await unsealRek(store, [soft, vault], false, log)
  t.same(fresh.sealed, ['hsm:minio:soft', 'hsm:hashicorp:vault'])
  t.same(await store.names(), ['hsm:hashicorp:vault', 'hsm:minio:soft'], 'the entry survives the file round trip')

  const alone = await unsealRek(store, [vault], true, log)
  t.same([alone.rek, alone.unsealedBy, alone.sealed], [fresh.rek, 'hsm:hashicorp:vault', []])

  const fallback = await unsealRek(store, [changed, soft], true, log)
  t.same([fallback.rek, fallback.unsealedBy], [fresh.rek, 'hsm:minio:soft'])
  t.match(lines.join('\n'), /WARN {2}HSM hsm:hashicorp:vault failed to unseal the root encryption key: Vault http:\/\/vault:8200 .*auth credentials differ/)

  await t.rejects(unsealRek(store, [changed], true, log), {
    name: 'FatalError',
    message: /^kms: failed to unseal the root encryption key: hsm:hashicorp:vault: Vault http:\/\/vault:8200 \(transit engine 'transit', key 'minkms-sealing-key'\): the sealed root encryption key does not authenticate/
  })
  noAuthValue(t, lines.join('\n'), 'the log')
  noAuthValue(t, readFileSync(join(dir, 'rek.json'), 'utf8'), 'rek.json')
})
