// Lab tier, the HSM migration as a whole: the real coordinator (its unit on `coord`) moves the
// cluster's root key onto a 2-node external Key Manager through the real agents, with a client
// load running throughout. One lab, one storyline, because every migration costs restarts:
// the cluster first gets a Vault HSM block (a rollout), so the migration must replace it; the
// refusals that touch nothing come next; then one migration that halts three times (the external
// Key Manager stopped in the middle of phase A; a canary that cannot start on the external HSM
// alone; phase B refused once the external HSM's sealed copy was removed) and is resumed each
// time, with the coordinator SIGKILLed once in each phase, and ends migrated with the Vault block
// gone and every other byte of the files as it was.
import t from 'tap'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { EXTERNAL_HSM_NAME, type HsmMigration } from '../../shared/schemas/hsm-migration.js'
import { startClientLoad } from './client-load.js'
import { migrationLab } from './hsm-lab.js'
import { keyrollLab } from './keyroll-lab.js'
import { downWindows, overlaps } from './minkms-downtime.js'
import { NODE_PATHS } from './node-files.js'
import { labSkip, startLab, type LabNode } from './start-lab.js'

const FAULT = '/var/lib/minkms-emu/faults/external-hsm-down'
const VAULT_HSM = 'hsm:hashicorp:vault'
const VAULT_SECRET = 'lab-vault-approle-secret-7f3a9c'

/** `text` without the line `header` and every line indented deeper below it (the YAML block). */
function withoutBlock (text: string, header: string): string {
  const lines = text.split('\n')
  const at = lines.indexOf(header)
  if (at < 0) throw new Error(`no line ${JSON.stringify(header)} in:\n${text}`)
  const indent = header.length - header.trimStart().length
  let end = at + 1
  while (end < lines.length && (lines[end] ?? '').trim() !== '' && (lines[end] ?? '').length - (lines[end] ?? '').trimStart().length > indent) end++
  return [...lines.slice(0, at), ...lines.slice(end)].join('\n')
}

t.test('keyroll moves the cluster\'s root key onto an external Key Manager', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 3, external: 2, keyroll: true })
  const kr = await keyrollLab(t, lab)
  const hm = migrationLab(t, lab, kr)
  const cluster = lab.nodes.filter((n) => n.role === 'cluster')
  const [node1, node2, node3] = cluster as [LabNode, LabNode, LabNode]
  const [ext1, ext2] = lab.nodes.filter((n) => n.role === 'external') as [LabNode, LabNode]
  const endpoint = (n: LabNode): string => `${n.address}:${n.port}`
  const external = [endpoint(ext1), endpoint(ext2)]
  const adminKey = lab.rootKey('external')
  const request = { cluster: kr.files.cluster, external, enclave: 'keyroll-lab', key: 'keyroll-lab-hsm', adminKey: { $secret: adminKey }, strategy: { healthyDeadline: '20s', minHealthyTime: '0s' } }
  const invocations = async (): Promise<string[]> => await Promise.all(cluster.map(async (n) => await kr.invocation(n)))
  const files = async (n: LabNode): Promise<[string, string]> => [await lab.readFile(n, NODE_PATHS.config), await lab.readFile(n, NODE_PATHS.envFile)]
  const answers: string[] = [] // every API answer, for the secret grep

  // The cluster as a site that seals with Vault next to its soft HSM, set up through keyroll
  // itself: the files every later check compares against are the ones after this rollout.
  const vault = await kr.roll({
    revision: 1,
    files: { config: { set: { 'hsm.hashicorp.vault': { server: 'https://vault.example.net:8200', approle: { id: 'keyroll-lab', secret: { $secret: VAULT_SECRET } }, transit: { engine: 'transit', key: 'minkms-sealing-key' } } } } },
    restart: 'on-change'
  }, { minHealthyTime: '0s' })
  answers.push(JSON.stringify(await kr.follow(vault.id)))
  const vaultView = await kr.call('GET', `/v1/rollouts/${vault.id}`)
  answers.push(JSON.stringify(vault), vaultView.text)
  const vaultDone = vaultView.json as { state: string, message?: string }
  t.equal(vaultDone.state, 'succeeded', `the Vault HSM block rolled out (${vaultDone.message ?? ''})`)
  for (const n of cluster) {
    const s = await hm.hsmStatus(n)
    t.ok(s.configured.includes(VAULT_HSM) && s.sealed.includes(VAULT_HSM), `${n.name} seals with Vault too (${JSON.stringify(s)})`)
  }
  const originals = await Promise.all(cluster.map(files))

  await t.test('refusals touch no node', async (t) => {
    const before = await invocations()
    const self = await kr.call('POST', '/v1/hsm-migrations', { ...request, external: [endpoint(node1)] })
    answers.push(self.text)
    t.equal(self.status >= 400 && self.status < 500, true, `a server list with a cluster node is refused (${self.status})`)
    t.match(self.json, { code: 'CRD_HSM_SELF_SEAL' })

    const wrong = await hm.run({ ...request, adminKey: { $secret: 'k1:' + 'A'.repeat(43) } })
    answers.push(JSON.stringify(wrong))
    t.equal(wrong.state, 'failed', `a wrong admin key fails the migration (${wrong.message ?? ''})`)
    t.equal(wrong.phase, 'provision', 'at provisioning')

    // Another HSM block: a dry run lists it as a problem and, with replaceHsm, shows phase B
    // deleting it; a real start is refused at preflight with a message naming it.
    const dry = await kr.call('POST', '/v1/hsm-migrations', { ...request, dryRun: true, replaceHsm: true })
    answers.push(dry.text)
    t.equal(dry.status, 200, `a dry run with replaceHsm answers (${dry.text.slice(0, 200)})`)
    const preview = (dry.json as { dryRun?: { problems: string[], plans: { B?: unknown } } }).dryRun
    t.same(preview?.problems, [], 'with replaceHsm the Vault block is no problem')
    t.match(JSON.stringify(preview?.plans.B), /-\s+hashicorp:/, "phase B's plan deletes the Vault block")
    const other = await hm.run({ ...request })
    answers.push(JSON.stringify(other))
    t.equal(other.state, 'failed', 'a config with another HSM block is refused')
    t.equal(other.phase, 'preflight', 'before any node is touched')
    t.match(other.message, /the configs of nodes node1, node2, node3 already configure another HSM \(hsm\.hashicorp\.vault\)/, `the message names the nodes and the block (${other.message ?? ''})`)
    t.match(other.message, /replaceHsm|--replace-hsm/, 'and says how to replace it')

    t.same(await invocations(), before, 'no node was restarted')
    t.same(await Promise.all(cluster.map(files)), originals, 'no node file changed')
  })

  await t.test('halted three times, resumed three times, killed once per phase: migrated, Vault replaced, clients never noticed', async (t) => {
    const admin = createMinkmsClient({ endpoints: cluster.map(endpoint), apiKey: lab.rootKey('cluster'), ca: lab.ca.pem })
    t.teardown(async () => { await admin.close() })
    await admin.createEnclave('load')
    await admin.createKey('load', 'load-key')
    const load = startClientLoad({ endpoints: cluster.map(endpoint), apiKey: lab.rootKey('cluster'), ca: lab.ca.pem, enclave: 'load', key: 'load-key', perSecond: 25 })
    const sinceUs = Date.now() * 1000

    // 0. node3 cannot reach either external server (a blackhole route in its network namespace):
    // provisioning is done, preflight refuses naming node3 and a server, and no node is touched.
    const before = await invocations()
    for (const ext of [ext1, ext2]) await lab.exec(node3, ['ip', 'route', 'add', 'blackhole', `${ext.address}/32`])
    const started = await kr.call('POST', '/v1/hsm-migrations', { ...request, replaceHsm: true, revealApiKey: true })
    t.equal(started.status, 201, `started (${started.text.slice(0, 200)})`)
    const { migration, apiKey } = started.json as { migration: HsmMigration, apiKey?: string }
    t.type(apiKey, 'string', 'the generated API key was answered once, on request')
    // That one answer carries it by request; everything else the API says must not.
    answers.push(JSON.stringify(migration))
    const secrets: Record<string, string> = { 'admin key': adminKey, 'generated API key': apiKey ?? '\u0000', MINIO_KMS_HSM_KEY: lab.hsmKey('cluster'), 'Vault secret': VAULT_SECRET }
    const id = migration.id
    const unreachable = await hm.settle(id)
    for (const ext of [ext1, ext2]) await lab.exec(node3, ['ip', 'route', 'del', 'blackhole', `${ext.address}/32`])
    answers.push(JSON.stringify(unreachable))
    t.equal(unreachable.state, 'failed', 'external servers unreachable from node3 fail the migration')
    t.equal(unreachable.phase, 'preflight', 'at preflight')
    t.match(unreachable.message, /node3/, `its message names node3 (${unreachable.message ?? ''})`)
    t.match(unreachable.message, new RegExp(ext1.address.replaceAll('.', '\\.')), 'and a server')
    t.same(await invocations(), before, 'no node was restarted')
    t.same(await Promise.all(cluster.map(files)), originals, 'no node file changed')

    // Resumed with ext2 stopped: the external cluster takes no write now (every member is needed),
    // so this works only because provisioning is done and a resume creates nothing; preflight warns.
    await lab.systemctl(ext2, 'stop', 'minkms')
    await lab.writeFile(node1, FAULT, '') // node1, the phase B canary, cannot start on the external HSM alone
    await hm.steer(id, 'resume')

    // 1. The external Key Manager stops once node1 passed phase A: node2 is rolled back, the migration halts.
    await hm.until(id, (m) => m.nodes[0]?.phases.A?.state === 'done')
    await lab.systemctl(ext1, 'stop', 'minkms')
    const halted = await hm.settle(id)
    t.equal(halted.state, 'failed', `halted (${halted.message ?? ''})`)
    t.equal(halted.phase, 'A', 'in phase A')
    t.match(halted.message, /node2/, 'naming node2')
    t.ok(halted.warnings.some((w) => w.includes(ext2.address)), `a warning names the stopped ${ext2.name}`)
    t.same(await files(node3), originals[2], 'node3 untouched')
    t.notMatch((await files(node2))[0], /minkms:/, "node2's config is back on its old revision")
    t.ok(await hm.serves(cluster), 'the cluster serves on its local HSM')

    // 2. Resume once the external is back: phase A completes; the canary of phase B fails (fault), rolled back.
    await lab.systemctl(ext1, 'start', 'minkms')
    await hm.waitReady(ext1)
    await hm.steer(id, 'resume')
    await hm.until(id, (m) => m.nodes[2]?.phases.A?.state === 'running')
    await hm.killCoordinator()
    const canaryHalt = await hm.settle(id)
    t.equal(canaryHalt.state, 'failed', `halted again (${canaryHalt.message ?? ''})`)
    t.equal(canaryHalt.phase, 'B', 'in phase B')
    t.match(canaryHalt.message, /node1/, 'naming the canary')
    t.match((await files(node1))[1], /^MINIO_KMS_HSM_KEY=/m, "the canary's env file still holds the local HSM key")
    t.ok(await hm.serves(cluster), 'every node serves')

    // 3. The fault removed, but the external HSM's sealed copy removed too (`minkms rm-hsm`, say)
    // while the migration is halted: the resume is refused before phase B touches a node. Sealed
    // again (CLUSTER:ADDHSM), the next resume goes on.
    await lab.exec(node1, ['rm', '-f', FAULT])
    await admin.removeHsm(EXTERNAL_HSM_NAME)
    const beforeRefusal = [await invocations(), await Promise.all(cluster.map(files))]
    await hm.steer(id, 'resume')
    const refused = await hm.settle(id)
    answers.push(JSON.stringify(refused))
    t.equal(refused.state, 'failed', 'phase B refused')
    t.equal(refused.phase, 'B', 'in phase B')
    t.match(refused.message, /^phase B refused: .*node1 .*node2 .*node3 /, `naming every node without the copy (${refused.message ?? ''})`)
    t.same([await invocations(), await Promise.all(cluster.map(files))], beforeRefusal, 'no node restarted, no file changed')
    await admin.addHsm(EXTERNAL_HSM_NAME)
    for (const n of cluster) t.ok((await hm.hsmStatus(n)).sealed.includes(EXTERNAL_HSM_NAME), `${n.name} sealed again`)

    // 4. Resume: phase B completes (the coordinator killed in the middle).
    await hm.steer(id, 'resume')
    await hm.until(id, (m) => m.nodes[1]?.phases.B?.state === 'running')
    await hm.killCoordinator()
    const done = await hm.settle(id)
    const report = await load.stop()
    t.equal(done.state, 'succeeded', `the migration succeeded (${done.message ?? ''})`)
    t.equal(report.failed, 0, `no failed client operation (${report.ok} ok; ${JSON.stringify(report.failures.slice(0, 3))})`)

    for (const [i, n] of cluster.entries()) {
      const [config, env] = await files(n)
      const [oldConfig, oldEnv] = originals[i] ?? ['', '']
      t.notMatch(env, /^MINIO_KMS_HSM_KEY=/m, `${n.name}: no MINIO_KMS_HSM_KEY`)
      t.equal(env, oldEnv.split('\n').filter((l) => !l.startsWith('MINIO_KMS_HSM_KEY=')).join('\n'), `${n.name}: the env file otherwise byte-identical`)
      t.match(config, /minkms:/, `${n.name}: the hsm.minio.minkms section`)
      t.notMatch(config, /hashicorp|vault/, `${n.name}: the Vault block replaced`)
      // Every byte but the two blocks: the old file without Vault's, the new one without minkms's.
      t.equal(withoutBlock(config, '  minio:'), withoutBlock(oldConfig, '  hashicorp:'), `${n.name}: the config otherwise byte-identical`)
      const kept = oldConfig.split('\n').filter((l) => l.trim().startsWith('#'))
      t.ok(kept.every((c) => config.includes(c)), `${n.name}: every earlier comment kept`)
      const status = await hm.hsmStatus(n)
      t.ok(status.configured.includes(EXTERNAL_HSM_NAME) && status.sealed.includes(EXTERNAL_HSM_NAME), `${n.name}: the external HSM configured and sealing (${JSON.stringify(status)})`)
      t.notOk(status.configured.includes(VAULT_HSM), `${n.name}: Vault no longer configured`)
    }
    const windows = (await Promise.all(cluster.map(async (n) => await downWindows(lab, n, sinceUs)))).flat()
    t.same(overlaps(windows), [], 'never two nodes down at once')
    const count = (n: LabNode): number => windows.filter((w) => w.node === n.name).length
    // A window runs from "Stopping" to the next ready line, so a start that fails and its rollback
    // are one window. node1: A, B's canary that cannot start on the external HSM alone, B again.
    // node2: A that cannot seal under the stopped external (fatal at start), A again, B. node3: A, B.
    t.same([count(node1), count(node2), count(node3)], [3, 3, 2], 'each node restarted once per phase run (no step restarted twice after a kill)')
    t.ok(await hm.serves(cluster), 'the cluster serves a client encrypt/decrypt')

    const events = await hm.events(id)
    answers.push(JSON.stringify(events), JSON.stringify(done))
    t.same(events.map((e) => e.index), events.map((_, i) => i), 'event indexes have no gaps')
    for (const [what, value] of Object.entries(secrets)) {
      t.notOk(answers.some((a) => a.includes(value)), `${what}: in no API answer or event`)
      const stored = await lab.exec(lab.node('coord'), ['grep', '-rlF', value, '/var/lib/keyroll-coordinator'], { okCodes: [0, 1] })
      t.equal(stored.stdout.trim(), '', `${what}: not in the coordinator's state in clear`)
      t.notOk((await lab.journal(lab.node('coord'), 'keyroll-coordinator')).includes(value), `${what}: not in the coordinator's log`)
      for (const n of cluster) {
        t.notOk((await lab.journal(n, 'keyroll-agent')).includes(value), `${what}: not in ${n.name}'s agent log`)
        t.notOk((await lab.journal(n, 'minkms')).includes(value), `${what}: not in ${n.name}'s minkms journal`)
      }
    }
  })
})
