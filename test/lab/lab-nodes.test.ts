// Lab tier: the lab itself. Real systemd nodes (systemd-nspawn) running minkms (the emulator).
import t from 'tap'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { processRunner } from '../../shared/process-runner.js'
import { hold, release } from './emergency-stop.js'
import { httpsGet, probe } from './health.js'
import { mountSource } from './host.js'
import { LabCa } from './lab-ca.js'
import { labDirIds } from './lab-ids.js'
import { labLeftovers, type LabStatus } from './lab-status.js'
import { MINKMS_UNIT, NODE_PATHS } from './node-files.js'
import { isRunning, processName, processRef } from './procfs.js'
import { repoRoot } from './repo.js'
import { labSkip, startLab } from './start-lab.js'

const HSM_LINE = /^MINIO_KMS_HSM_KEY=(hsm:aes256:[A-Za-z0-9+/=]{44})$/m

t.test('a 3+1 lab: every node runs minkms under real systemd', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 3, external: 1 })
  t.same(lab.nodes.map((n) => `${n.name}/${n.role}`), ['node1/cluster', 'node2/cluster', 'node3/cluster', 'ext1/external'], 'nodes and roles')

  for (const n of lab.nodes) {
    t.equal((await lab.systemctl(n, 'is-active', 'minkms')).stdout.trim(), 'active', `${n.name}: minkms is active`)
    t.match(await lab.journal(n, 'minkms'), /=> Server is up and running/, `${n.name}: the banner is in journalctl -u minkms`)
    t.equal(await probe(n.address, n.port, 'ready', lab.ca.pem), 200, `${n.name}: /v1/health/ready is 200 over TLS verified against the lab CA`)
    t.equal(await lab.readFile(n, NODE_PATHS.minkmsUnit), MINKMS_UNIT, `${n.name}: the unit is the lab's copy of the real one`)
    t.ok(readdirSync(join(n.root, 'var/log/journal')).length > 0, `${n.name}: the journal is kept in the node root`)
  }

  // Verification is really on: a server certificate from another CA is refused.
  const stranger = await LabCa.create('not the lab CA')
  const node1 = lab.node('node1')
  await t.rejects(httpsGet(`https://${node1.address}:${node1.port}/v1/health/live`, { ca: stranger.certPem }), 'a foreign CA is not trusted')

  // One HSM key per Key Manager: shared by the cluster nodes, another for the external one.
  const hsm = await Promise.all(lab.nodes.map(async (n) => HSM_LINE.exec(await lab.readFile(n, NODE_PATHS.envFile))?.[1]))
  t.same(hsm, [lab.hsmKey('cluster'), lab.hsmKey('cluster'), lab.hsmKey('cluster'), lab.hsmKey('external')], 'HSM keys per Key Manager')
  t.not(lab.hsmKey('cluster'), lab.hsmKey('external'), 'the external Key Manager has its own HSM key')

  // The cluster was formed with the root API key from node1's journal.
  t.match(await lab.journal('node1', 'minkms', { grep: 'API Key' }), lab.rootKey('cluster'), 'rootKey() is the one node1 printed')
  t.equal(statSync(lab.state.secrets.cluster.rootKeyFile).mode & 0o777, 0o600, 'root API key file is 0600')
  const client = createMinkmsClient({ endpoints: [`${node1.address}:${node1.port}`], apiKey: lab.rootKey('cluster'), ca: lab.ca.pem })
  t.teardown(async () => { await client.close() })
  t.equal(Object.keys((await client.clusterStatus()).nodesUp).length, 3, 'node1 reports 3 cluster nodes up')
  t.equal(await probe(node1.address, node1.port, 'ready-write', lab.ca.pem), 200, 'the cluster is ready for writes')

  // Files written from the host land in the node (fault switches work this way).
  await lab.writeFile('node2', `${NODE_PATHS.faultsDir}/probe`, 'x')
  t.equal((await lab.exec('node2', ['cat', `${NODE_PATHS.faultsDir}/probe`])).stdout, 'x', 'a file written from the host is seen inside')
  await lab.writeFile('node2', '/etc/keyroll/new.conf', 'y', { mode: 0o640 })
  t.equal((await lab.exec('node2', ['stat', '-c', '%a %U %s', '/etc/keyroll/new.conf'])).stdout.trim(), '640 root 1', 'new directories, mode and owner')
  await lab.writeFile('node2', '/tmp/inside', 'z')
  t.equal(await lab.readFile('node2', '/tmp/inside'), 'z', 'a path mounted inside the node is written through nsenter')
})

const cliArgs = (...args: string[]): string[] => [join(repoRoot(), 'dist/test/lab/lab-cli.js'), ...args]

t.test('the CLI: up, status --json, down leaves nothing behind', { skip: labSkip }, async (t) => {
  // Owned by this test process, so a killed run leaves a lab that `down --stale` removes.
  const up = await processRunner.run(process.execPath, cliArgs('up', '--id', 'auto', '--nodes', '1', '--external', '0', '--json', '--owner-pid', String(process.pid)), { timeoutMs: 120_000 })
  const id = (JSON.parse(up.stdout) as LabStatus).id
  t.match(JSON.parse(up.stdout), { owner: { kind: 'test', pid: process.pid } }, 'owned by the test')
  hold(id)
  let downDone = false
  t.teardown(async () => { if (!downDone) await processRunner.run(process.execPath, cliArgs('down', '--id', String(id)), { timeoutMs: 60_000 }) })

  const status = JSON.parse((await processRunner.run(process.execPath, cliArgs('status', '--id', String(id), '--json'), { timeoutMs: 30_000 })).stdout) as LabStatus
  const n = status.nodes[0]
  t.equal(status.nodes.length, 1, 'one node')
  t.match(n, { name: 'node1', role: 'cluster', address: `10.77.${id}.11`, port: 7373 }, 'name, role, address and port')
  t.ok(existsSync(join(n?.root ?? '', 'etc/minkms/config.yaml')), 'root is the node root on the host')
  t.match(await readFile(n?.rootKeyFile ?? '', 'utf8'), /^k\d:/, 'rootKeyFile holds the root API key')
  const leader = processRef(n?.leaderPid ?? 0)
  t.equal(processName(leader?.pid ?? 0), 'systemd', 'leaderPid is the node\'s systemd')
  t.equal(await probe(n?.address ?? '', 7373, 'ready', await readFile(status.ca, 'utf8')), 200, 'minkms answers, verified against status.ca')

  await processRunner.run(process.execPath, cliArgs('down', '--id', String(id)), { timeoutMs: 60_000 })
  downDone = true
  release(id)
  t.same(await labLeftovers(id), [], 'no processes, cgroups, links, netns, mounts or dirs of the lab remain')
  // (An ended process may linger as a zombie until the host's PID 1 reaps it: isRunning says no.)
  t.notOk(leader !== undefined && isRunning(leader), 'the node\'s systemd is gone')
  if ((await labDirIds()).length === 0) t.equal(mountSource('/run/systemd/nspawn'), undefined, 'the nspawn tmpfs is unmounted')
})

t.test('down after a crash: nspawn SIGKILLed, its container orphaned', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 1, external: 0 })
  const nspawn = lab.state.nodes[0]?.nspawn
  if (nspawn === undefined) throw new Error('no nspawn process recorded')
  process.kill(nspawn.pid, 'SIGKILL')
  await lab.waitFor(() => !isRunning(nspawn), { timeoutMs: 5000, what: 'nspawn to die' })
  const leader = processRef(lab.node('node1').leaderPid)
  t.ok(leader !== undefined && isRunning(leader), 'the container\'s systemd outlives nspawn')
  await lab.down() // throws if anything is left behind
  t.notOk(leader !== undefined && isRunning(leader), 'the orphaned systemd is gone')
  t.same(await labLeftovers(lab.id), [], 'nothing of the lab remains')
})
