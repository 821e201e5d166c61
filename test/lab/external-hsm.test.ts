// Lab tier: the external Key Manager as HSM, done by hand (the way an operator would, before
// keyroll's agent exists): real systemd nodes, real journal, real mutual TLS between the cluster
// node and the external Key Manager.
import t from 'tap'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { generateApiKey } from '../../shared/minkms/keys.js'
import { probe } from './health.js'
import { hsmSection, NODE_PATHS } from './node-files.js'
import { labSkip, startLab, type Lab, type LabNode } from './start-lab.js'

const ENCLAVE = 'aistor-key-manager'
const KEY = 'aistor-key-manager-hsm'
const SOFT = 'hsm:minio:soft'
const EXTERNAL = 'hsm:minio:minkms'

const withoutHsmKey = (env: string): string => env.split('\n').filter((l) => !l.startsWith('MINIO_KMS_HSM_KEY=')).join('\n')

async function unitState (lab: Lab, node: LabNode): Promise<string> {
  return (await lab.systemctl(node, 'show', '-p', 'ActiveState', '--value', 'minkms')).stdout.trim()
}

/** Restarts minkms and waits until it answers ready (systemctl restart returns once the old process is gone). */
async function restartReady (lab: Lab, node: LabNode): Promise<void> {
  await lab.systemctl(node, 'reset-failed', 'minkms')
  const r = await lab.systemctl(node, 'restart', 'minkms')
  if (r.code !== 0) throw new Error(`systemctl restart minkms on ${node.name}: ${r.stderr}`)
  await lab.waitFor(async () => await probe(node.address, node.port, 'ready', lab.ca.pem) === 200,
    { timeoutMs: 30_000, what: `${node.name} ready` })
}

/** Restarts minkms and waits until systemd gives up on it (Restart=always + the start limit). */
async function restartFailed (lab: Lab, node: LabNode): Promise<void> {
  await lab.systemctl(node, 'restart', 'minkms')
  await lab.waitFor(async () => await unitState(lab, node) === 'failed', { timeoutMs: 60_000, what: `${node.name} minkms failed` })
}

t.test('the cluster root key moves to the external Key Manager', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 3, external: 1 })
  const ext = lab.node('ext1')
  const [node1, node2, node3] = [lab.node('node1'), lab.node('node2'), lab.node('node3')]

  // Steps 1-2 on the external Key Manager: enclave, admin identity (key made here), HSM key.
  const root = createMinkmsClient({ endpoints: [`${ext.address}:${ext.port}`], apiKey: lab.rootKey('external'), ca: lab.ca.pem })
  t.teardown(async () => { await root.close() })
  await root.createEnclave(ENCLAVE)
  const admin = generateApiKey('k1')
  await root.createIdentity(ENCLAVE, { identity: admin.identity, privilege: 'Admin' })
  const asAdmin = createMinkmsClient({ endpoints: [`${ext.address}:${ext.port}`], apiKey: admin.key, ca: lab.ca.pem })
  t.teardown(async () => { await asAdmin.close() })
  await asAdmin.createKey(ENCLAVE, KEY)

  const config = await lab.readFile(node1, NODE_PATHS.config)
  const env = await lab.readFile(node1, NODE_PATHS.envFile)

  t.test('a wrong auth.key: the unit ends failed with the fatal line', async (t) => {
    const stranger = generateApiKey('k1') // valid format, unknown to the external Key Manager
    await lab.writeFile(node2, NODE_PATHS.config, config + hsmSection([`${ext.address}:${ext.port}`], ENCLAVE, KEY, stranger.key))
    await restartFailed(lab, node2)
    const journal = await lab.journal(node2, 'minkms')
    t.match(journal, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d FATAL kms: failed to seal the root encryption key with HSM 'hsm:minio:minkms': .*access denied: insufficient permissions$/m,
      'the fatal line names the HSM and the refusal')
    t.notMatch(journal, stranger.key, 'the API key is not in the journal')
    await lab.writeFile(node2, NODE_PATHS.config, config)
    await restartReady(lab, node2)
    t.equal(await unitState(lab, node2), 'active', 'back on the old config, minkms runs again')
  })

  t.test('MINIO_KMS_HSM_KEY removed before the external HSM sealed: the node cannot start', async (t) => {
    await lab.writeFile(node3, NODE_PATHS.config, config + hsmSection([`${ext.address}:${ext.port}`], ENCLAVE, KEY, admin.key))
    await lab.writeFile(node3, NODE_PATHS.envFile, withoutHsmKey(env))
    await restartFailed(lab, node3)
    t.match(await lab.journal(node3, 'minkms'), /FATAL kms: no configured HSM can unseal the root encryption key/, 'fatal: nothing can unseal')
  })

  t.test('added with the local HSM present, then the local HSM removed: starts through the external one', async (t) => {
    await lab.writeFile(node1, NODE_PATHS.config, config + hsmSection([`${ext.address}:${ext.port}`], ENCLAVE, KEY, admin.key))
    await restartReady(lab, node1)
    t.match(await lab.journal(node1, 'minkms'), `Sealed root encryption key with HSM ${EXTERNAL}`, 'node1 sealed its REK with the external HSM')
    const audit = `enclave=${ENCLAVE} identity=${admin.identity} status=200`
    t.match(await lab.journal(ext, 'minkms'), `audit KEY:ENCRYPT ${audit}`, 'the external Key Manager served KEY:ENCRYPT for the admin identity')

    const cluster = createMinkmsClient({ endpoints: [`${node1.address}:${node1.port}`], apiKey: lab.rootKey('cluster'), ca: lab.ca.pem })
    t.teardown(async () => { await cluster.close() })
    const self = async (): Promise<{ hsms: string[], configuredHsms: string[] } | undefined> =>
      Object.values((await cluster.clusterStatus()).nodesUp).find((s) => s.host === `${node1.address}:${node1.port}`)
    const before = await self()
    t.same(before?.hsms.slice().sort(), [EXTERNAL, SOFT], 'CLUSTER:STATUS: both HSMs seal the REK on node1')
    t.same(before?.configuredHsms.slice().sort(), [EXTERNAL, SOFT], 'CLUSTER:STATUS: both HSMs configured on node1')

    await lab.writeFile(node1, NODE_PATHS.envFile, withoutHsmKey(env))
    await restartReady(lab, node1)
    t.match(await lab.journal(node1, 'minkms'), `Unsealed root encryption key with HSM ${EXTERNAL}`, 'node1 unsealed through the external HSM')
    t.match(await lab.journal(ext, 'minkms'), `audit KEY:DECRYPT ${audit}`, 'the external Key Manager served KEY:DECRYPT')
    const after = await self()
    t.same(after?.configuredHsms, [EXTERNAL], 'only the external HSM is configured now')
    t.ok(after?.hsms.includes(EXTERNAL), 'the external HSM entry is on disk')
    const banners = (await lab.journal(node1, 'minkms', { grep: 'API Key' })).trim().split('\n')
    t.ok(banners.length >= 3, 'three starts of node1 printed a banner')
    t.match(banners.at(-1), lab.rootKey('cluster'), 'the root API key stayed the same without the soft HSM')
  })
})
