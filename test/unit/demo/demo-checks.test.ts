// The demo's checks over file and journal texts as the lab writes them: what passes after a good
// migration, and each way a node can be wrong, worded without the secret values.
import t from 'tap'
import { checkClusterHsms, checkConfig, checkEnv, checkLoad, checkRestarts, findLeaks, minkmsStarts, restartsByPhase } from '../../demo/demo-checks.js'
import { hsmSection, minkmsConfig } from '../../lab/node-files.js'
import { planNodes, labLayout } from '../../lab/lab-paths.js'

const node = planNodes(labLayout(1), { nodes: 1, external: 0 })[0]
if (node === undefined) throw new Error('no node planned')
const before = minkmsConfig(node)
const servers = ['10.77.1.51:7373', '10.77.1.52:7373']
const apiKey = 'k1:' + 'A'.repeat(43)
const after = before + hsmSection(servers, 'keyroll-demo', 'keyroll-demo-hsm', apiKey)
const expected = { servers, enclave: 'keyroll-demo', key: 'keyroll-demo-hsm' }

t.test('config: the section added, comments and settings intact', async (t) => {
  t.same(checkConfig(before, after, expected), [], 'the lab config plus the section passes')
  t.same(checkConfig(before, before, expected), ['no hsm.minio.minkms section'])
  t.match(checkConfig(before, after.replace('# Config file version. Required.\n', ''), expected), [/1 earlier comment line\(s\) are gone, the first: "# Config file version\. Required\."/])
  t.same(checkConfig(before, after.replace('ca: /etc/minkms/certs/CAs', 'ca: /elsewhere'), expected), ['settings other than hsm.minio.minkms changed'])
  t.match(checkConfig(before, before + hsmSection(servers.slice(0, 1), 'other', 'keyroll-demo-hsm', 'k1:short'), expected), [
    /server is \["10\.77\.1\.51:7373"\], not/, /enclave is "other"/, /auth\.key is not a k1:\/k2: API key/
  ])
  const problems = checkConfig(before, after + 'hsm:\n  vault: {}\n', expected)
  t.ok(problems.length > 0, 'a broken or doubled hsm block is a problem')
  t.match(checkConfig(before, after.replace('hsm:\n  minio:', 'hsm:\n  fortanix:\n    dsm: { x: 1 }\n  minio:'), expected), [/other HSM blocks are configured: hsm\.fortanix\.dsm/, /settings other/])
  t.notMatch(JSON.stringify(checkConfig(before, before + hsmSection(servers, 'x', 'y', apiKey), expected)), apiKey, 'the API key is never in a message')
  t.match(checkConfig(before, ': : :\n\t', expected), [/does not parse/])
})

t.test('env: MINIO_KMS_HSM_KEY gone, everything else kept', async (t) => {
  const env = '# minkms environment\nMINIO_KMS_HSM_KEY=hsm:k1:secretvalue0123456789\nMINIO_KMS_VOLUME=/mnt/minio-kms\nMINIO_KMS_OPTS="--host 10.77.1.11:7373"\n'
  const good = '# minkms environment\nMINIO_KMS_VOLUME=/mnt/minio-kms\nMINIO_KMS_OPTS="--host 10.77.1.11:7373"\n'
  t.same(checkEnv(env, good), [])
  t.same(checkEnv(env, env), ['MINIO_KMS_HSM_KEY is still in the file', 'the value of MINIO_KMS_HSM_KEY is still in the file', 'assignments other than MINIO_KMS_HSM_KEY changed'])
  t.same(checkEnv(env, good.replace('MINIO_KMS_VOLUME', '# MINIO_KMS_HSM_KEY=hsm:k1:secretvalue0123456789\nMINIO_KMS_VOLUME')), ['MINIO_KMS_HSM_KEY is still in the file', 'the value of MINIO_KMS_HSM_KEY is still in the file'], 'commented out is still there')
  t.same(checkEnv(env, good.replace('/mnt/minio-kms', '/mnt/other')), ['assignments other than MINIO_KMS_HSM_KEY changed'])
})

/** A start of minkms as its journal shows it (`-o cat`), with the banner's HSM lines. */
function start (hsms: string[]): string {
  return ['Started minkms.service - MinKMS.', '2026-12-02 17:16:00 INFO  Starting server instance...', 'Version        2025-11-12T19-14-51Z commit=e',
    ...hsms.map((h, i) => `${i === 0 ? 'HSM'.padEnd(15) : ' '.repeat(15)}${h}`), 'Cluster        ID      d8',
    '               Node 0: 10.77.1.11:7373 <-', 'API Key        k1:xyz', '=> Server is up and running...'].join('\n')
}

t.test('restarts: counted per phase from the banners', async (t) => {
  const journal = ['Stopping minkms.service - MinKMS...', start(['hsm:minio:soft', 'hsm:minio:minkms']), 'INFO audit', start(['hsm:minio:minkms'])].join('\n')
  t.same(minkmsStarts(journal), [{ hsms: ['hsm:minio:soft', 'hsm:minio:minkms'] }, { hsms: ['hsm:minio:minkms'] }])
  const counts = restartsByPhase(minkmsStarts(journal))
  t.same(counts, { A: 1, B: 1, other: 0 })
  t.same(checkRestarts(counts), [])
  const failedStart = '2026-12-02 17:16:00 INFO  Starting server instance...\n2026-12-02 17:16:01 FATAL kms: no configured HSM can unseal'
  const rolledBack = [start(['hsm:minio:soft', 'hsm:minio:minkms']), failedStart, start(['hsm:minio:soft', 'hsm:minio:minkms'])].join('\n')
  t.same(restartsByPhase(minkmsStarts(rolledBack)), { A: 2, B: 0, other: 1 })
  t.same(checkRestarts({ A: 2, B: 0, other: 1 }), [
    'restarted 2 times with the external HSM added (phase A), not once',
    'restarted 0 times on the external HSM alone (phase B), not once',
    '1 other start(s) of minkms (failed, or with other HSMs)'
  ])
  t.same(minkmsStarts(''), [], 'no start, nothing counted')
})

t.test('cluster status, load, leaks', async (t) => {
  const hosts = ['a:7373', 'b:7373', 'c:7373']
  const up = (host: string, configured: string[]): { host: string, hsms: string[], configuredHsms: string[] } => ({ host, hsms: ['hsm:minio:minkms', 'hsm:minio:soft'], configuredHsms: configured })
  t.same(checkClusterHsms(hosts.map((h) => up(h, ['hsm:minio:minkms'])), hosts), [])
  t.same(checkClusterHsms([up('a:7373', ['hsm:minio:minkms', 'hsm:minio:soft']), { host: 'b:7373', hsms: ['hsm:minio:soft'], configuredHsms: ['hsm:minio:minkms'] }], hosts), [
    'a:7373 has ["hsm:minio:minkms","hsm:minio:soft"] configured, not only hsm:minio:minkms',
    'b:7373 holds no root key copy sealed by hsm:minio:minkms',
    'c:7373 is not up in the cluster status'
  ])
  t.same(checkLoad({ ok: 100, failed: 0 }), [])
  t.same(checkLoad({ ok: 0, failed: 2 }), ['the client load completed no operation', '2 client operation(s) failed'])
  const secret = 'k1:the-admin-key-value'
  const leaks = findLeaks([{ name: 'coord journal', text: `x ${secret} y` }, { name: 'cli', text: 'clean' }], [{ name: 'the admin key', value: secret }, { name: 'short', value: 'abc' }])
  t.same(leaks, ['the admin key appears in coord journal'])
  t.notMatch(leaks.join(), secret, 'never the value itself')
})
