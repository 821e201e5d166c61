// Start-up refusals in process: the FatalError messages main.ts prints as the FATAL line.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { failedStart, startNode, testEnv } from './helpers/harness.js'

t.test('documented and own fatal errors', async (t) => {
  const env = await testEnv(t)
  t.equal((await failedStart(env, { hsmKey: null })).message, 'kms: no HSM provided')
  t.equal((await failedStart(env, { config: 'version: v1\n' })).message, 'kms: no TLS configuration provided')
  t.equal((await failedStart(env, { config: 'version: v1\ntls:\n  certs: []\n' })).message, 'kms: no server certificate provided')
  t.equal((await failedStart(env, { hsmKey: 'hsm:aes256:c2VjcmV0' })).message, 'kms: invalid MINIO_KMS_HSM_KEY: the key must decode to 32 bytes, not 6')
  t.match((await failedStart(env, { config: 'version: v1\ntls:\n  certs:\n    - { key: /nope.key, cert: /nope.crt }\n' })).message,
    /^kms: failed to read private key '\/nope.key': ENOENT/)
  const { message, logs } = await failedStart(env, { config: 'version: v2\n' })
  t.match(message, /^kms: invalid config file '.*config.yaml': unsupported version 'v2' \(supported: v1\)$/)
  t.match(logs.lines, [/INFO {2}Starting server instance\.\.\.$/])
})

t.test('state without a sealed REK is refused', async (t) => {
  const env = await testEnv(t)
  const n = await startNode(env)
  await n.emu.close()
  writeFileSync(join(n.dataDir, 'rek.json'), JSON.stringify({ version: 1, entries: {} }))
  t.equal((await failedStart(env, { dataDir: n.dataDir })).message, 'kms: the data directory holds a key database but no sealed root encryption key')
  writeFileSync(join(n.dataDir, 'rek.json'), '{')
  t.match((await failedStart(env, { dataDir: n.dataDir })).message, /^kms: failed to read the sealed root encryption key: .*rek.json is not valid JSON$/)
})
