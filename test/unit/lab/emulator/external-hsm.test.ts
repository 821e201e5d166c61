// The external Key Manager HSM (hsm.minio.minkms): a second in-process emulator plays the external
// Key Manager (helpers/external-km.ts).
import t from 'tap'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import { ENCLAVE, KEY, cryptoCalls as crypto, externalKm } from './helpers/external-km.js'
import { clientFor, configYaml, failedStart, startNode, testEnv } from './helpers/harness.js'

t.test('seal with the external Key Manager, then run without the soft HSM', async (t) => {
  const env = await testEnv(t)
  const ext = await externalKm(env)

  // Phase A: add hsm.minio.minkms while MINIO_KMS_HSM_KEY is still set.
  const soft = await startNode(env)
  const rootKey = soft.emu.rootApiKey
  await soft.emu.close()
  const a = await startNode(env, { dataDir: soft.dataDir, config: configYaml(env.pki, ext.spec) })
  t.match(a.logs.text(), /INFO {2}Sealed root encryption key with HSM hsm:minio:minkms/)
  t.same(crypto(ext.events), [`KEY:ENCRYPT ${ENCLAVE} 200`], 'the external saw the seal')
  t.ok(a.logs.lines.includes('HSM            hsm:minio:soft') && a.logs.lines.includes('               hsm:minio:minkms'), 'one banner line per HSM')
  const st = await clientFor(env, a.emu.host, rootKey).clusterStatus()
  t.same(st.nodesUp[0]?.hsms, ['hsm:minio:minkms', 'hsm:minio:soft'])
  t.same(st.nodesUp[0]?.configuredHsms, ['hsm:minio:soft', 'hsm:minio:minkms'])
  t.notMatch(a.logs.text(), ext.spec.apiKey, 'auth.key is never logged')
  await a.emu.close()

  // Phase B: MINIO_KMS_HSM_KEY removed; the external HSM alone unseals, the root key stays.
  ext.events.length = 0
  const b = await startNode(env, { dataDir: soft.dataDir, config: configYaml(env.pki, ext.spec), hsmKey: null })
  t.equal(b.emu.rootApiKey, rootKey, 'root API key unchanged without the soft HSM')
  t.match(b.logs.text(), /INFO {2}Unsealed root encryption key with HSM hsm:minio:minkms/)
  t.same(crypto(ext.events), [`KEY:DECRYPT ${ENCLAVE} 200`], 'the external saw the unseal')
  t.ok(b.logs.lines.includes('HSM            hsm:minio:minkms'))
  const root = clientFor(env, b.emu.host, rootKey)
  const st2 = await root.clusterStatus()
  t.same(st2.nodesUp[0]?.hsms, ['hsm:minio:minkms', 'hsm:minio:soft'], 'the stale soft entry stays on disk')
  t.same(st2.nodesUp[0]?.configuredHsms, ['hsm:minio:minkms'])

  // rm-hsm of the stale soft entry; the last usable entry cannot be removed.
  await root.removeHsm('hsm:minio:soft')
  t.same((await root.clusterStatus()).nodesUp[0]?.hsms, ['hsm:minio:minkms'])
  await t.rejects(root.removeHsm('hsm:minio:minkms'), { statusCode: 409, message: /no other configured HSM/ })
  await t.rejects(root.removeHsm('hsm:minio:soft'), { statusCode: 404, message: "HSM 'hsm:minio:soft' holds no sealed root encryption key" })
  await t.rejects(root.addHsm('hsm:minio:soft'), { statusCode: 400, message: "HSM 'hsm:minio:soft' is not configured on this node" })
  await t.rejects(root.addHsm('hsm:minio:minkms'), { statusCode: 409, message: /already holds a sealed root encryption key/ })
  ext.events.length = 0
  await root.addHsm('hsm:minio:minkms', { overwrite: true })
  t.same(crypto(ext.events), [`KEY:ENCRYPT ${ENCLAVE} 200`], 'overwrite re-seals')
  await b.emu.close()

  // And it still starts on the re-sealed entry.
  const c = await startNode(env, { dataDir: soft.dataDir, config: configYaml(env.pki, ext.spec), hsmKey: null })
  t.equal(c.emu.rootApiKey, rootKey)
})

t.test('add-hsm re-adds a removed soft HSM entry', async (t) => {
  const env = await testEnv(t)
  const ext = await externalKm(env)
  const n = await startNode(env, { config: configYaml(env.pki, ext.spec) })
  const root = clientFor(env, n.emu.host, n.emu.rootApiKey)
  await root.removeHsm('hsm:minio:soft')
  t.same((await root.clusterStatus()).nodesUp[0]?.hsms, ['hsm:minio:minkms'])
  await root.addHsm('hsm:minio:soft')
  t.same((await root.clusterStatus()).nodesUp[0]?.hsms, ['hsm:minio:minkms', 'hsm:minio:soft'])
  await t.rejects(root.addHsm('hsm:minio:nope'), { statusCode: 400, message: "HSM 'hsm:minio:nope' is not configured on this node" })
})

t.test('refusals', async (t) => {
  const env = await testEnv(t)
  const ext = await externalKm(env)

  await t.test('removing the soft HSM before the external sealed fails', async (t) => {
    const soft = await startNode(env)
    await soft.emu.close()
    const { message } = await failedStart(env, { dataDir: soft.dataDir, config: configYaml(env.pki, ext.spec), hsmKey: null })
    t.equal(message, 'kms: no configured HSM can unseal the root encryption key: sealed by [hsm:minio:soft], configured [hsm:minio:minkms]')
  })

  await t.test('a wrong auth.key cannot seal', async (t) => {
    const soft = await startNode(env)
    await soft.emu.close()
    const wrong = { ...ext.spec, apiKey: generateApiKey('k2').key }
    const { message, logs } = await failedStart(env, { dataDir: soft.dataDir, config: configYaml(env.pki, wrong) })
    t.equal(message, `kms: failed to seal the root encryption key with HSM 'hsm:minio:minkms': external Key Manager ${ext.host} ` +
      `(enclave '${ENCLAVE}', key '${KEY}'): access denied: insufficient permissions`)
    t.notMatch(logs.text() + message, wrong.apiKey)
    // The node still starts as before once the bad config is reverted.
    await startNode(env, { dataDir: soft.dataDir })
  })

  await t.test('a wrong key name is a 404 from the external', async (t) => {
    const { message } = await failedStart(env, { config: configYaml(env.pki, { ...ext.spec, key: 'nope' }) })
    t.match(message, /^kms: failed to seal .*: key does not exist$/)
  })

  await t.test('servers are tried in turn; none reachable is fatal', async (t) => {
    const dead = await startNode(env)
    const deadHost = dead.emu.host
    await dead.emu.close()
    const n = await startNode(env, { config: configYaml(env.pki, { ...ext.spec, servers: [deadHost, ext.host] }) })
    t.match(n.logs.text(), /Sealed root encryption key with HSM hsm:minio:minkms/)
    const { message } = await failedStart(env, { config: configYaml(env.pki, { ...ext.spec, servers: [deadHost] }), externalHsmTimeoutMs: 1000 })
    t.match(message, new RegExp(`^kms: failed to seal the root encryption key with HSM 'hsm:minio:minkms': no external Key Manager server reachable: ${deadHost}: .*ECONNREFUSED`))
  })

  await t.test('a wrong soft HSM key falls back to the external with a warning', async (t) => {
    const n = await startNode(env, { config: configYaml(env.pki, ext.spec) })
    await n.emu.close()
    const other = 'hsm:aes256:' + Buffer.alloc(32, 0x77).toString('base64')
    const m = await startNode(env, { dataDir: n.dataDir, config: configYaml(env.pki, ext.spec), hsmKey: other })
    t.match(m.logs.text(), /WARN {2}HSM hsm:minio:soft failed to unseal the root encryption key: wrong HSM key/)
    t.match(m.logs.text(), /Unsealed root encryption key with HSM hsm:minio:minkms/)
    t.equal(m.emu.rootApiKey, n.emu.rootApiKey, 'the stored root key wins')
  })

  await t.test('fault external-hsm-down: starts with the soft HSM (and seals), cannot start on the external alone', async (t) => {
    ext.events.length = 0
    const faults = { 'external-hsm-down': '' }
    const a = await startNode(env, { config: configYaml(env.pki, ext.spec), faults })
    t.match(a.logs.text(), /WARN {2}fault injection active: external-hsm-down/)
    t.match(a.logs.text(), /INFO {2}Sealed root encryption key with HSM hsm:minio:minkms/, 'sealing still reaches the external')
    t.same(crypto(ext.events), [`KEY:ENCRYPT ${ENCLAVE} 200`])
    await a.emu.close()
    // Restarted with the soft HSM: unsealed by it, the external HSM never asked.
    const b = await startNode(env, { dataDir: a.dataDir, config: configYaml(env.pki, ext.spec), faults })
    t.match(b.logs.text(), /INFO {2}Unsealed root encryption key with HSM hsm:minio:soft/)
    t.equal(b.emu.rootApiKey, a.emu.rootApiKey)
    await b.emu.close()
    // MINIO_KMS_HSM_KEY removed: the one FATAL line, as when no external server answers.
    ext.events.length = 0
    const { message, logs } = await failedStart(env, { dataDir: a.dataDir, config: configYaml(env.pki, ext.spec), hsmKey: null, faults })
    t.equal(message, `kms: failed to unseal the root encryption key: hsm:minio:minkms: no external Key Manager server reachable: ${ext.host}: ` +
      'unreachable from this node (fault injection: external-hsm-down)')
    t.match(logs.text(), /WARN {2}HSM hsm:minio:minkms failed to unseal the root encryption key: no external Key Manager server reachable/)
    t.same(crypto(ext.events), [], 'nothing reached the external')
    // Without the fault the same data directory starts on the external HSM alone.
    const c = await startNode(env, { dataDir: a.dataDir, config: configYaml(env.pki, ext.spec), hsmKey: null })
    t.match(c.logs.text(), /INFO {2}Unsealed root encryption key with HSM hsm:minio:minkms/)
    t.equal(c.emu.rootApiKey, a.emu.rootApiKey)
  })

  await t.test('external down and no soft HSM: fatal', async (t) => {
    const n = await startNode(env, { config: configYaml(env.pki, ext.spec) })
    await n.emu.close()
    await ext.close()
    const { message, logs } = await failedStart(env, { dataDir: n.dataDir, config: configYaml(env.pki, ext.spec), hsmKey: null, externalHsmTimeoutMs: 1000 })
    t.match(message, /^kms: failed to unseal the root encryption key: hsm:minio:minkms: no external Key Manager server reachable/)
    t.match(logs.text(), /WARN {2}HSM hsm:minio:minkms failed to unseal/)
  })
})
