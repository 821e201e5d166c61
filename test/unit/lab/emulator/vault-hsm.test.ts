// A node with `hsm.hashicorp.vault` (the offline Vault stand-in) beside the soft HSM and the
// external Key Manager HSM: the storyline of an HSM migration off a node that already had another
// HSM block (issue 9's `--replace-hsm`), through real start-ups and the real client.
import t from 'tap'
import { cryptoCalls, ENCLAVE, externalKm } from './helpers/external-km.js'
import { clientFor, configYaml, failedStart, startNode, testEnv, type LogCapture, type VaultHsmSpec } from './helpers/harness.js'

const ROLE_ID = 'role-id-5b1c0a7e'
const SECRET_ID = 'secret-id-9f2d4c61'
const VAULT: VaultHsmSpec = { server: 'http://vault:8200', approle: { id: ROLE_ID, secret: SECRET_ID }, transit: { engine: 'transit', key: 'minkms-sealing-key' } }
const INDENT = ' '.repeat(15)

t.test('soft + vault, vault alone, then the external Key Manager replacing both', async (t) => {
  const env = await testEnv(t)
  const ext = await externalKm(env)
  const logs: LogCapture[] = []

  // Soft + vault on a fresh data directory: the REK is sealed by both, in configured order.
  const a = await startNode(env, { config: configYaml(env.pki, undefined, VAULT) })
  logs.push(a.logs)
  t.match(a.logs.text(), /Sealed root encryption key with HSM hsm:minio:soft\n.*Sealed root encryption key with HSM hsm:hashicorp:vault\n/)
  t.ok(a.logs.lines.includes('HSM            hsm:minio:soft') && a.logs.lines.includes(`${INDENT}hsm:hashicorp:vault`), 'one banner line per HSM')
  const rootKey = a.emu.rootApiKey
  const st = await clientFor(env, a.emu.host, rootKey).clusterStatus()
  t.same(st.nodesUp[0]?.hsms, ['hsm:hashicorp:vault', 'hsm:minio:soft'])
  t.same(st.nodesUp[0]?.configuredHsms, ['hsm:minio:soft', 'hsm:hashicorp:vault'])
  await a.emu.close()

  // MINIO_KMS_HSM_KEY removed: the Vault block alone unseals, the root key stays.
  const b = await startNode(env, { dataDir: a.dataDir, config: configYaml(env.pki, undefined, VAULT), hsmKey: null })
  logs.push(b.logs)
  t.match(b.logs.text(), /INFO {2}Unsealed root encryption key with HSM hsm:hashicorp:vault/)
  t.equal(b.emu.rootApiKey, rootKey)
  t.ok(b.logs.lines.includes('HSM            hsm:hashicorp:vault'))
  t.same((await clientFor(env, b.emu.host, rootKey).clusterStatus()).nodesUp[0]?.configuredHsms, ['hsm:hashicorp:vault'])
  await b.emu.close()

  // A changed block (the AppRole secret rotated) cannot unseal: a WARN, then the one FATAL line.
  const rotated = { ...VAULT, approle: { id: ROLE_ID, secret: 'secret-id-rotated-0001' } }
  const failed = await failedStart(env, { dataDir: a.dataDir, config: configYaml(env.pki, undefined, rotated), hsmKey: null })
  logs.push(failed.logs)
  t.equal(failed.message, 'kms: failed to unseal the root encryption key: hsm:hashicorp:vault: Vault http://vault:8200 (transit engine \'transit\', ' +
    'key \'minkms-sealing-key\'): the sealed root encryption key does not authenticate: the hsm.hashicorp.vault block changed since it was sealed ' +
    '(same server, engine and key, so the auth credentials differ)')
  t.match(failed.logs.text(), /WARN {2}HSM hsm:hashicorp:vault failed to unseal the root encryption key: /)
  t.notMatch(failed.message + failed.logs.text(), 'secret-id-rotated', 'the new secret is not printed either')

  // Phase A: soft back, hsm.minio.minkms added beside the Vault block; soft unseals first.
  const c = await startNode(env, { dataDir: a.dataDir, config: configYaml(env.pki, ext.spec, VAULT) })
  logs.push(c.logs)
  t.match(c.logs.text(), /INFO {2}Unsealed root encryption key with HSM hsm:minio:soft/)
  t.match(c.logs.text(), /INFO {2}Sealed root encryption key with HSM hsm:minio:minkms/)
  t.same(cryptoCalls(ext.events), [`KEY:ENCRYPT ${ENCLAVE} 200`])
  const banner = c.logs.lines.filter((l) => /^(HSM {12}|\s{15})hsm:/.test(l))
  t.same(banner, ['HSM            hsm:minio:soft', `${INDENT}hsm:hashicorp:vault`, `${INDENT}hsm:minio:minkms`], 'soft, then vault, then the external Key Manager')
  const st3 = await clientFor(env, c.emu.host, rootKey).clusterStatus()
  t.same(st3.nodesUp[0]?.configuredHsms, ['hsm:minio:soft', 'hsm:hashicorp:vault', 'hsm:minio:minkms'])
  t.same(st3.nodesUp[0]?.hsms, ['hsm:hashicorp:vault', 'hsm:minio:minkms', 'hsm:minio:soft'])
  await c.emu.close()

  // Phase B with the Vault block replaced: the soft key and the Vault block removed, the external HSM alone.
  const d = await startNode(env, { dataDir: a.dataDir, config: configYaml(env.pki, ext.spec), hsmKey: null })
  logs.push(d.logs)
  t.match(d.logs.text(), /INFO {2}Unsealed root encryption key with HSM hsm:minio:minkms/)
  t.equal(d.emu.rootApiKey, rootKey)
  const root = clientFor(env, d.emu.host, rootKey)
  const st4 = await root.clusterStatus()
  t.same(st4.nodesUp[0]?.configuredHsms, ['hsm:minio:minkms'])
  t.same(st4.nodesUp[0]?.hsms, ['hsm:hashicorp:vault', 'hsm:minio:minkms', 'hsm:minio:soft'], 'the stale entries stay on disk')
  await root.removeHsm('hsm:hashicorp:vault')
  t.same((await root.clusterStatus()).nodesUp[0]?.hsms, ['hsm:minio:minkms', 'hsm:minio:soft'])
  await t.rejects(root.addHsm('hsm:hashicorp:vault'), { statusCode: 400, message: "HSM 'hsm:hashicorp:vault' is not configured on this node" })

  const all = logs.map((l) => l.text()).join('\n')
  t.notMatch(all, SECRET_ID, 'the AppRole secret is in no log line')
  t.notMatch(all, ROLE_ID, 'nor the AppRole id')
})

t.test('vault alone, without a soft HSM ever', async (t) => {
  const env = await testEnv(t)
  const n = await startNode(env, { config: configYaml(env.pki, undefined, VAULT), hsmKey: null })
  t.match(n.logs.text(), /INFO {2}Sealed root encryption key with HSM hsm:hashicorp:vault/)
  await n.emu.close()
  const m = await startNode(env, { dataDir: n.dataDir, config: configYaml(env.pki, undefined, VAULT), hsmKey: null })
  t.equal(m.emu.rootApiKey, n.emu.rootApiKey, 'the stored root key wins')
  await m.emu.close()
  const { message } = await failedStart(env, { dataDir: n.dataDir, hsmKey: 'hsm:aes256:' + Buffer.alloc(32, 3).toString('base64') })
  t.equal(message, 'kms: no configured HSM can unseal the root encryption key: sealed by [hsm:hashicorp:vault], configured [hsm:minio:soft]')
})
