// The root identity modes: `stored` (the default; the root API key survives HSM changes) and
// `derived` (derived at every start from the HSM that unsealed the REK), and what the derived mode
// does to a cluster in the middle of an HSM migration's phase B: the node that dropped its soft
// HSM gets another root key, its peers and it refuse each other, clients with their own
// identities are still served, and the cluster trusts itself again once every node restarted on
// the same HSM.
import t from 'tap'
import { generateApiKey, parseApiKey } from '../../../../shared/minkms/keys.js'
import { ExternalKmsHsm } from '../../../lab/emulator/external-kms-hsm.js'
import { parseHsmKey } from '../../../lab/emulator/hsm-key.js'
import { identityCommand } from '../../../lab/emulator/identity-command.js'
import { derivedRootApiKey, identityHsm, parseRootIdentityMode } from '../../../lab/emulator/root-identity.js'
import { SoftHsm } from '../../../lab/emulator/soft-hsm.js'
import { VaultStandInHsm } from '../../../lab/emulator/vault-standin-hsm.js'
import { externalKm } from './helpers/external-km.js'
import { clientFor, configYaml, startNode, testEnv, TEST_HSM_KEY, waitUntil, type TestNode } from './helpers/harness.js'

const softKey = (): Buffer => {
  const p = parseHsmKey(TEST_HSM_KEY)
  if (!p.ok) throw new Error(p.reason)
  return p.key
}

t.test('the switch and the derivations', async (t) => {
  t.same(parseRootIdentityMode(undefined), { ok: true, mode: 'stored' }, 'unset: stored (as before)')
  t.same(parseRootIdentityMode(' '), { ok: true, mode: 'stored' }, 'empty: stored')
  t.same(parseRootIdentityMode('derived'), { ok: true, mode: 'derived' })
  t.same(parseRootIdentityMode('hsm'), { ok: false, reason: "invalid MINKMS_EMU_ROOT_IDENTITY 'hsm': expected stored or derived" })

  const soft = new SoftHsm(softKey())
  const printed = await identityCommand(TEST_HSM_KEY)
  t.ok(printed.ok && printed.stdout.includes(derivedRootApiKey(soft)), 'the soft HSM derives what `minkms identity hsm:aes256:…` prints')

  const spec = { servers: ['10.0.0.1:7373', '10.0.0.2:7373'], enclave: 'e', key: 'k', apiKey: generateApiKey('k1').key }
  const ext = derivedRootApiKey(new ExternalKmsHsm(spec, undefined, 1000))
  t.equal(derivedRootApiKey(new ExternalKmsHsm({ ...spec, servers: [...spec.servers].reverse() }, undefined, 1000)), ext, 'external: the server order does not matter')
  t.not(derivedRootApiKey(new ExternalKmsHsm({ ...spec, apiKey: generateApiKey('k1').key }, undefined, 1000)), ext, 'external: another auth.key, another root key')
  t.not(derivedRootApiKey(new ExternalKmsHsm({ ...spec, key: 'k2' }, undefined, 1000)), ext, 'external: another key, another root key')
  t.not(ext, derivedRootApiKey(soft), 'external and soft differ')
  const vaultCfg = { server: 'http://vault:8200', engine: 'transit', key: 'k', auth: { method: 'approle' as const, id: 'r', secret: 's' } }
  const vault = derivedRootApiKey(new VaultStandInHsm(vaultCfg))
  t.equal(derivedRootApiKey(new VaultStandInHsm({ ...vaultCfg })), vault, 'Vault: the same block, the same root key')
  t.not(derivedRootApiKey(new VaultStandInHsm({ ...vaultCfg, auth: { method: 'approle', id: 'r', secret: 's2' } })), vault, 'Vault: a rotated secret, another root key')
  t.not(vault, derivedRootApiKey(soft), 'Vault and soft differ')

  t.equal(identityHsm([soft], undefined), soft, 'a fresh data directory: the first configured HSM')
  const other = new VaultStandInHsm(vaultCfg)
  t.equal(identityHsm([soft, other], 'hsm:hashicorp:vault'), other, 'otherwise the one that unsealed')
})

t.test('derived: dropping the soft HSM changes the node\'s identity; peers refuse it until all moved', async (t) => {
  const env = await testEnv(t)
  const ext = await externalKm(env)
  const withExternal = configYaml(env.pki, ext.spec)
  const start = async (n: TestNode | undefined, soft: boolean): Promise<TestNode> =>
    await startNode(env, { rootIdentity: 'derived', config: withExternal, ...(soft ? {} : { hsmKey: null }), ...(n === undefined ? {} : { dataDir: n.dataDir, address: n.emu.host }) })

  // Phase A on both: soft + external; the soft HSM unseals, so the key is the soft one's.
  let n0 = await start(undefined, true)
  let n1 = await start(undefined, true)
  const oldKey = derivedRootApiKey(new SoftHsm(softKey()))
  t.equal(n0.emu.rootApiKey, oldKey, 'phase A: the soft HSM\'s root key')
  t.match(n0.logs.text(), /INFO {2}Derived the root API key from HSM hsm:minio:soft \(root identity mode: derived\)/)
  const root = clientFor(env, n0.emu.host, oldKey)
  await root.addNode(n1.emu.host)
  await root.createEnclave('app')
  await root.createKey('app', 'app-key')
  const app = generateApiKey('k1')
  await root.createIdentity('app', { identity: app.identity, privilege: 'Admin' })

  // Phase B's canary: n1 without the soft HSM unseals with the external HSM and derives from it.
  await n1.emu.close()
  n1 = await start(n1, false)
  const newKey = derivedRootApiKey(new ExternalKmsHsm(ext.spec, undefined, 1000))
  t.equal(n1.emu.rootApiKey, newKey, 'the canary runs with the external HSM\'s root key')
  t.not(newKey, oldKey, 'another root key')
  t.not(n1.emu.rootIdentity, parseApiKey(oldKey).identity, 'and so another identity')
  t.ok(n1.logs.lines.includes(`API Key        ${newKey}`), 'the banner shows the key in use')
  await waitUntil('n0 to show n1 down', async () => Object.keys((await root.clusterStatus()).nodesDown).includes('1'))
  const fromCanary = await clientFor(env, n1.emu.host, newKey).clusterStatus()
  t.same(Object.keys(fromCanary.nodesDown), ['0'], 'the canary shows its peer down too')
  await t.rejects(clientFor(env, n1.emu.host, oldKey).clusterStatus(), { statusCode: 403, message: /access denied/ }, 'the canary no longer takes the old root key')
  await t.rejects(root.createKey('app', 'refused'), { statusCode: 503, message: /no write quorum/ }, 'no write quorum')
  const appClient = clientFor(env, n1.emu.host, app.key)
  const sealed = await appClient.encrypt('app', 'app-key', Buffer.from('x'))
  t.same(Buffer.from(await appClient.decrypt('app', 'app-key', sealed.ciphertext, { version: sealed.version })), Buffer.from('x'), 'a client with its own identity is still served by the canary')

  // n0 on the external HSM alone too: both derive the same key and trust each other again.
  await n0.emu.close()
  n0 = await start(n0, false)
  t.equal(n0.emu.rootApiKey, newKey, 'n0 derives the same key from the same external HSM')
  const back = clientFor(env, n0.emu.host, newKey)
  await waitUntil('both up', async () => Object.keys((await back.clusterStatus()).nodesUp).length === 2)
  await back.createKey('app', 'accepted')
  t.pass('writes accepted again')
})
