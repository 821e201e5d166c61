// Lab tier, the HSM migration in the emulator's derived root identity mode (each node's root API
// key derived at every start from the HSM that unsealed it, as minkms may do): a rolling phase B
// cannot pass its canary, since the canary without its local HSM gets another root identity and
// its peers refuse it. keyroll must notice and never break the cluster: the canary restarts
// cleanly, the coordinator's gate sees its peers show it down, its agent rolls it back, the
// migration halts with a message naming the cause and what to do; every node serves and is
// accepted by its peers again, a client with its own identity never failed a read, and neither
// root API key (the old one nor the one the canary derived) is in any event, answer or log.
// Then, on the same lab, the way out the halt names: the halted migration resumed with an
// all-at-once phase B. Refused without allowWriteOutage; with node2 unable to unseal on the external
// HSM (fault external-hsm-down) every node is rolled back together to a cluster that serves and
// accepts writes; with the fault gone, a resume completes: every node up in every other node's
// status, writes accepted, the new root API key works and the old one no longer does, and the
// measured write outage is printed. The coordinator, still configured with the old root key, takes
// up the new one from the nodes' banners by itself, keeps using it after a restart, and hands it
// over once.
import { readFile } from 'node:fs/promises'
import t, { type Test } from 'tap'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { generateApiKey, parseApiKey } from '../../shared/minkms/keys.js'
import type { HsmMigration } from '../../shared/schemas/hsm-migration.js'
import { startClientLoad } from './client-load.js'
import { ExternalKmsHsm } from './emulator/external-kms-hsm.js'
import { derivedRootApiKey } from './emulator/root-identity.js'
import { migrationLab } from './hsm-lab.js'
import { keyrollLab } from './keyroll-lab.js'
import { agentUrl } from './lab-agents.js'
import { ADMIN_KEY_FILE } from './lab-keyroll.js'
import { HttpAgentClient } from '../../coordinator/agents/http-agent-client.js'
import { downWindows } from './minkms-downtime.js'
import { NODE_PATHS } from './node-files.js'
import { labSkip, startLab, type LabNode } from './start-lab.js'

t.test('derived root identity: a rolling phase B halts after its canary, rolled back, the cluster whole', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 3, external: 2, keyroll: true, rootIdentity: 'derived' })
  t.equal(lab.state.rootIdentity, 'derived', 'the lab records the mode')
  const kr = await keyrollLab(t, lab)
  const hm = migrationLab(t, lab, kr)
  const cluster = lab.nodes.filter((n) => n.role === 'cluster')
  const [node1, node2, node3] = cluster as [LabNode, LabNode, LabNode]
  const endpoint = (n: LabNode): string => `${n.address}:${n.port}`
  const external = lab.nodes.filter((n) => n.role === 'external').map(endpoint)
  const oldRoot = lab.rootKey('cluster')
  const answers: string[] = []

  // The client load runs with an identity of its own (an Admin of its enclave), as applications
  // do: the key database is the same whatever root key a node derived, so the canary serves it.
  const admin = createMinkmsClient({ endpoints: cluster.map(endpoint), apiKey: oldRoot, ca: lab.ca.pem })
  t.teardown(async () => { await admin.close() })
  await admin.createEnclave('load')
  await admin.createKey('load', 'load-key')
  const app = generateApiKey('k1')
  await admin.createIdentity('load', { identity: app.identity, privilege: 'Admin' })
  const load = startClientLoad({ endpoints: cluster.map(endpoint), apiKey: app.key, ca: lab.ca.pem, enclave: 'load', key: 'load-key', perSecond: 25 })
  const sinceUs = Date.now() * 1000

  const request = { cluster: kr.files.cluster, external, enclave: 'keyroll-lab', key: 'keyroll-lab-hsm', adminKey: { $secret: lab.rootKey('external') }, revealApiKey: true, strategy: { healthyDeadline: '15s', minHealthyTime: '0s' } }
  const started = await kr.call('POST', '/v1/hsm-migrations', request)
  t.equal(started.status, 201, `started (${started.text.slice(0, 200)})`)
  const { migration, apiKey } = started.json as { migration: HsmMigration, apiKey?: string }
  if (apiKey === undefined) throw new Error('no API key answered')
  answers.push(JSON.stringify(migration))
  // The root key the canary derives on the external HSM alone (the emulator's derivation).
  const newRoot = derivedRootApiKey(new ExternalKmsHsm({ servers: external, enclave: request.enclave, key: request.key, apiKey }, undefined, 1000))
  t.not(newRoot, oldRoot, 'the external HSM derives another root key')
  const short = (key: string): string => parseApiKey(key).identity.slice(0, 11)
  const keys: Record<string, string> = { 'the old root API key': oldRoot, "the canary's new root API key": newRoot }

  const m = await hm.settle(migration.id)
  answers.push(JSON.stringify(m))
  t.equal(m.state, 'failed', `halted (${m.message ?? ''})`)
  t.equal(m.phase, 'B', 'in phase B')
  t.same(cluster.map((n) => m.nodes.find((x) => x.name === n.name)?.phases.A?.state), ['done', 'done', 'done'], 'phase A done everywhere (the soft HSM still unseals)')
  t.match(m.nodes.find((x) => x.name === 'node1')?.phases.B?.state, /^(reverted|failed)$/, 'the canary failed and was rolled back')
  t.notOk(m.nodes.some((x) => x.name !== 'node1' && x.phases.B?.state === 'done'), 'no other node reached phase B')
  t.match(m.message, /node1 restarted cleanly but its peers do not accept it: node[23] shows node1 \([0-9.:]+\) down\b/, 'the message says what was seen')
  t.ok(m.message?.includes(`identity ${short(oldRoot)}… → ${short(newRoot)}…`), `and the identity change, old → new (${short(oldRoot)} → ${short(newRoot)})`)
  t.match(m.message, /removing the local HSM changes this cluster's identity, so a rolling phase B cannot work/, 'the cause')
  t.match(m.message, /--keep-local-hsm/, 'and what to do')

  t.match(await lab.readFile(node1, NODE_PATHS.envFile), /^MINIO_KMS_HSM_KEY=/m, "the canary's env file holds the local HSM key again")
  const journal1 = await lab.journal(node1, 'minkms', { grep: 'Derived the root API key' })
  t.match(journal1, /from HSM hsm:minio:minkms/, 'the canary derived its key from the external HSM during phase B')

  // Every node serving and accepted by its peers: each up in every other node's cluster status.
  for (const n of cluster) {
    const c = createMinkmsClient({ endpoints: [endpoint(n)], apiKey: oldRoot, ca: lab.ca.pem })
    t.teardown(async () => { await c.close() })
    await lab.waitFor(async () => {
      const st = await c.clusterStatus().catch(() => undefined)
      return st !== undefined && Object.keys(st.nodesUp).length === 3 && Object.keys(st.nodesDown).length === 0
    }, { timeoutMs: 30_000, what: `${n.name} to show every node up` })
    t.pass(`${n.name} shows every node up`)
  }
  t.ok(await hm.serves(cluster), 'every node serves an encrypt/decrypt on its own')
  await admin.createKey('load', 'after-halt')
  t.pass('the cluster accepts writes again')

  const report = await load.stop()
  t.equal(report.failed, 0, `no failed client read (${report.ok} ok; ${JSON.stringify(report.failures.slice(0, 3))})`)
  t.ok(report.ok > 0, 'the load ran')

  const windows = (await Promise.all(cluster.map(async (n) => await downWindows(lab, n, sinceUs)))).flat()
  const count = (n: LabNode): number => windows.filter((w) => w.node === n.name).length
  t.same([count(node2), count(node3)], [1, 1], 'node2 and node3 restarted in phase A only')

  await t.test('the root API key (issue 11 part 4)', async (t) => { await rootKeyChecks(t, lab, kr, node1, oldRoot) })
  await allAtOnce(t, { lab, kr, hm, cluster, request, oldRoot, answers, keys, halted: migration.id, apiKey })
  await t.test('the adopted root key (issue 11 part 4)', async (t) => { await adoptionChecks(t, lab, kr, hm, keys['the root API key after the all-at-once phase B'], oldRoot) })

  const events = await hm.events(migration.id)
  answers.push(JSON.stringify(events))
  t.ok(events.some((e) => e.message.includes(`root identity changed with phase B's change: ${short(oldRoot)}… → ${short(newRoot)}…`)), 'an event names the identity change')
  const rolloutB = m.rollouts.B
  if (rolloutB !== undefined) answers.push((await kr.call('GET', `/v1/rollouts/${rolloutB}`, undefined, { as: 'viewer' })).text)
  for (const [what, value] of Object.entries(keys)) {
    t.notOk(answers.some((a) => a.includes(value)), `${what}: in no API answer or event`)
    const stored = await lab.exec(lab.node('coord'), ['grep', '-rlF', value, '/var/lib/keyroll-coordinator'], { okCodes: [0, 1] })
    t.equal(stored.stdout.trim(), '', `${what}: not in the coordinator's state in clear`)
    t.notOk((await lab.journal(lab.node('coord'), 'keyroll-coordinator')).includes(value), `${what}: not in the coordinator's log`)
    for (const n of cluster) t.notOk((await lab.journal(n, 'keyroll-agent')).includes(value), `${what}: not in ${n.name}'s agent log`)
  }
})

interface AllAtOnceContext {
  lab: Awaited<ReturnType<typeof startLab>>
  kr: Awaited<ReturnType<typeof keyrollLab>>
  hm: ReturnType<typeof migrationLab>
  cluster: LabNode[]
  request: Record<string, unknown> & { enclave: string, key: string, external: string[] }
  oldRoot: string
  /** Every answer and event seen, for the secret grep. */
  answers: string[]
  /** The keys no answer, event, state or log may hold, by name (this adds its own). */
  keys: Record<string, string>
  /** The migration whose rolling phase B halted, and its Admin identity's API key. */
  halted: string
  apiKey: string
}

const FAULT = '/var/lib/minkms-emu/faults/external-hsm-down'

// The all-at-once phase B, the way out the halt names: the halted migration resumed in that mode
// (phase A is not run again). The coordinator keeps the cluster's old root API key as its admin key
// (the lab's adminKeyFile), as an operator would: once every node restarted on the external HSM the
// nodes refuse it, and the coordinator must take up the new key from their banners by itself for
// its cluster checks (issue 11 part 4). A failure on one node rolls every node back; then, the
// failure gone, a plain resume completes.
async function allAtOnce (t: Test, c: AllAtOnceContext): Promise<void> {
  const { lab, kr, hm, cluster, oldRoot, answers, apiKey } = c
  const [, node2] = cluster as [LabNode, LabNode, LabNode]
  const endpoint = (n: LabNode): string => `${n.address}:${n.port}`

  const refused = await kr.call('POST', '/v1/hsm-migrations', { ...c.request, phaseB: 'all-at-once' })
  answers.push(refused.text)
  t.equal(refused.status, 400, 'a new all-at-once migration without allowWriteOutage is refused')
  t.match(refused.text, /CRD_HSM_WRITE_OUTAGE.*accepts no writes.*--allow-write-outage/, 'saying why and how')
  const refusedResume = await kr.call('POST', `/v1/hsm-migrations/${c.halted}/resume`, { phaseB: 'all-at-once' })
  answers.push(refusedResume.text)
  t.equal(refusedResume.status, 400, 'so is a resume in that mode without it')

  // (i) node2 cannot unseal without its local HSM (read at its next start: phase A's restart kept
  // its soft HSM and passed; the all-at-once restart fails and its agent rolls it back).
  await lab.writeFile(node2, FAULT, '')
  t.teardown(async () => { await lab.exec(node2, ['rm', '-f', FAULT]) })
  const resumed = await kr.call('POST', `/v1/hsm-migrations/${c.halted}/resume`, { phaseB: 'all-at-once', allowWriteOutage: true })
  answers.push(resumed.text)
  t.equal(resumed.status, 200, `the halted migration resumed all at once (${resumed.text.slice(0, 200)})`)
  t.equal((resumed.json as HsmMigration).phaseB, 'all-at-once', 'the view shows the mode')
  const failed = await hm.settle(c.halted)
  answers.push(JSON.stringify(failed))
  t.equal(failed.state, 'failed', `halted (${failed.message ?? ''})`)
  t.equal(failed.phase, 'B')
  t.match(failed.message, /^phase B failed \(all at once\): node2: .*every node was rolled back .*the cluster serves again/, 'naming node2, every node rolled back')
  for (const n of cluster) t.match(await lab.readFile(n, NODE_PATHS.envFile), /^MINIO_KMS_HSM_KEY=/m, `${n.name}'s env file holds the local HSM key again`)
  await wholeCluster(t, lab, cluster, oldRoot, 'after the rollback of every node')
  t.ok(await hm.serves(cluster), 'every node serves an encrypt/decrypt on its own')
  if (failed.writeOutage !== undefined) t.comment(`the failed all-at-once phase B's write outage, to the rolled-back cluster: ${failed.writeOutage.ms} ms`)

  // (ii) The fault gone, a plain resume runs the all-at-once phase B again: every node commits together.
  await lab.exec(node2, ['rm', '-f', FAULT])
  answers.push(JSON.stringify(await hm.steer(c.halted, 'resume')))
  const done = await hm.settle(c.halted)
  answers.push(JSON.stringify(done), JSON.stringify(await hm.events(c.halted)))
  t.equal(done.state, 'succeeded', `completed (${done.message ?? ''})`)
  const outage = done.writeOutage
  t.ok(outage !== undefined && !outage.rolledBack, 'the write outage is measured')
  t.comment(`all-at-once phase B write outage for ${cluster.length} nodes: ${outage?.ms ?? '?'} ms (target under 5000 ms)`)
  for (const n of done.nodes) {
    t.equal(n.phases.B?.state, 'done', `${n.name}: phase B done`)
    t.equal(n.phases.B?.verdict?.ok, true, `${n.name}: its verdict`)
    t.equal(n.phases.B?.gate?.ok, true, `${n.name}: its gate`)
  }
  for (const n of cluster) t.notMatch(await lab.readFile(n, NODE_PATHS.envFile), /^MINIO_KMS_HSM_KEY=/m, `${n.name}'s env file has no local HSM key`)

  const newRoot = derivedRootApiKey(new ExternalKmsHsm({ servers: c.request.external, enclave: c.request.enclave, key: c.request.key, apiKey }, undefined, 1000))
  c.keys['the root API key after the all-at-once phase B'] = newRoot
  await wholeCluster(t, lab, cluster, newRoot, 'after the all-at-once phase B')
  const after = createMinkmsClient({ endpoints: cluster.map(endpoint), apiKey: newRoot, ca: lab.ca.pem })
  t.teardown(async () => { await after.close() })
  await after.createKey('load', 'after-all-at-once')
  t.pass('the cluster accepts writes, with the new root API key')
  const old = createMinkmsClient({ endpoints: cluster.map(endpoint), apiKey: oldRoot, ca: lab.ca.pem })
  t.teardown(async () => { await old.close() })
  await t.rejects(old.clusterStatus(), 'the old root API key no longer works')
}

/** Every node up in every node's own cluster status (each up in every other's). */
async function wholeCluster (t: Test, lab: AllAtOnceContext['lab'], cluster: readonly LabNode[], rootKey: string, when: string): Promise<void> {
  for (const n of cluster) {
    const c = createMinkmsClient({ endpoints: [`${n.address}:${n.port}`], apiKey: rootKey, ca: lab.ca.pem })
    t.teardown(async () => { await c.close() })
    await lab.waitFor(async () => {
      const st = await c.clusterStatus().catch(() => undefined)
      return st !== undefined && Object.keys(st.nodesUp).length === cluster.length && Object.keys(st.nodesDown).length === 0
    }, { timeoutMs: 30_000, what: `${n.name} to show every node up ${when}` })
    t.pass(`${n.name} shows every node up ${when}`)
  }
}

// ---- issue 11 part 4 (a root API key that changed): checks on the same lab run, kept apart ----
// After the rolling phase B was rolled back every node is on its old root key again, so the
// coordinator adopted nothing: no `rootKey` in the cluster view, and the hand-over answers 404
// CRD_ROOT_KEY_NONE. The agent's POST /v1/root-api-key (mutual TLS, the lab's client certificate)
// answers a node's current banner key, the old root key, and the answer reaches no agent log.
async function rootKeyChecks (t: Test, lab: Awaited<ReturnType<typeof startLab>>, kr: Awaited<ReturnType<typeof keyrollLab>>, node1: LabNode, oldRoot: string): Promise<void> {
  const clusterName = kr.files.cluster
  const views = await kr.call('GET', '/v1/clusters', undefined, { as: 'viewer' })
  t.equal(views.status, 200)
  t.notOk((views.json as Array<{ name: string, rootKey?: unknown }>).find((c) => c.name === clusterName)?.rootKey, 'no root key adopted')
  const handOver = await kr.call('POST', `/v1/clusters/${clusterName}/root-api-key`)
  t.match(handOver.json, { statusCode: 404, code: 'CRD_ROOT_KEY_NONE' }, 'nothing to hand over')

  const client = lab.state.agents?.client
  if (client === undefined) throw new Error('the lab has no agent client certificate')
  const agents = new HttpAgentClient({ tls: { ca: await readFile(client.ca), cert: await readFile(client.cert), key: await readFile(client.key) } })
  try {
    const got = await agents.rootApiKey({ cluster: clusterName, name: node1.name, agentUrl: agentUrl(node1.address), minkms: `${node1.address}:${node1.port}` })
    t.equal(got.identity, parseApiKey(oldRoot).identity, `${node1.name}'s banner names the old root key again`)
    t.ok(got.apiKey.equals(oldRoot), 'and its agent answers that key')
  } finally {
    await agents.close()
  }
  t.notOk((await lab.journal(node1, 'keyroll-agent')).includes(oldRoot), 'the answer reached no agent log')
}

// After the all-at-once phase B the cluster runs on a new root key. The coordinator, configured
// with the old one, adopted the new key from the nodes' banners by itself while it checked the
// cluster (its first root call refused): the view shows only its identity. It keeps using it after
// a restart (stored sealed; the admin key file still holds the old key): a plain rollout's gates
// pass. It hands the key over once. The final checks above then find the new key in no answer,
// event, log or the coordinator's state in clear (it is there only sealed).
async function adoptionChecks (t: Test, lab: Awaited<ReturnType<typeof startLab>>, kr: Awaited<ReturnType<typeof keyrollLab>>, hm: ReturnType<typeof migrationLab>, newRoot: string | undefined, oldRoot: string): Promise<void> {
  if (newRoot === undefined) {
    t.comment('not run: the all-at-once phase B did not run')
    return
  }
  const identity = parseApiKey(newRoot).identity
  const adopted = (await kr.call('GET', '/v1/clusters', undefined, { as: 'viewer' })).json as Array<{ name: string, rootKey?: { identity: string } }>
  t.equal(adopted.find((c) => c.name === kr.files.cluster)?.rootKey?.identity, identity, 'adopted during the all-at-once phase B: the view names the new key\'s identity')
  t.ok((await lab.exec(lab.node('coord'), ['cat', ADMIN_KEY_FILE])).stdout.trim() === oldRoot, 'the admin key file still holds the old root key (untouched)')
  await hm.killCoordinator()
  const nodes = (await kr.call('GET', `/v1/nodes?cluster=${kr.files.cluster}`, undefined, { as: 'viewer' })).json as Array<{ appliedRevision?: number }>
  // Well above any revision a (possibly older) health view shows: only order matters.
  const revision = Math.max(...nodes.map((n) => n.appliedRevision ?? 0)) + 1000
  const rollout = await kr.roll({ revision, files: { config: { set: { 'cache.expiry.any': '5m' } } } }, { minHealthyTime: '0s', healthyDeadline: '30s' })
  const events = await kr.follow(rollout.id)
  const end = (await kr.call('GET', `/v1/rollouts/${rollout.id}`, undefined, { as: 'viewer' })).json as { state: string, message?: string }
  t.equal(end.state, 'succeeded', `after a restart, a rollout with the old root key still configured passes its gates (${end.message ?? ''})`)
  t.notOk(JSON.stringify(events).includes(newRoot) || JSON.stringify(events).includes(oldRoot), 'no root key in its events')
  const views = (await kr.call('GET', '/v1/clusters', undefined, { as: 'viewer' })).json as Array<{ name: string, rootKey?: { identity: string } }>
  t.equal(views.find((c) => c.name === kr.files.cluster)?.rootKey?.identity, identity, 'the view names the adopted key\'s identity')
  const first = await kr.call('POST', `/v1/clusters/${kr.files.cluster}/root-api-key`)
  t.equal(first.status, 200)
  t.ok((first.json as { apiKey?: { $secret?: string } }).apiKey?.$secret === newRoot, 'handed over: the new root key')
  const again = await kr.call('POST', `/v1/clusters/${kr.files.cluster}/root-api-key`)
  t.match(again.json, { statusCode: 410, code: 'CRD_ROOT_KEY_HANDED_OVER' }, 'once')
  const audit = (await kr.call('GET', '/v1/audit', undefined, { as: 'viewer' })).text
  t.match(audit, /cluster\.root-key\.adopt/, 'the adoption is audited')
  t.notOk(audit.includes(newRoot), 'without the key')
}
