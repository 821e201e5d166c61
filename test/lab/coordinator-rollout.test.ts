// Lab tier, keyroll as a whole: the real coordinator (its systemd unit on `coord`) rolls changes
// over three real minkms nodes through their real agents, over real mutual TLS, and proves each
// node from its journal. One lab for every scenario here (a lab boots in seconds, but each one
// adds up on a 2-core CI machine).
import { join } from 'node:path'
import t from 'tap'
import { createMinkmsClient } from '../../shared/minkms/client.js'
import { ChildProcessRunner } from '../../shared/process-runner.js'
import type { Rollout, RolloutEvent } from '../../shared/schemas/rollout.js'
import { startClientLoad } from './client-load.js'
import { httpsGet } from './health.js'
import { AGENT_PORT } from './lab-agents.js'
import { keyrollLab } from './keyroll-lab.js'
import { downWindows, overlaps } from './minkms-downtime.js'
import { repoRoot } from './repo.js'
import { labSkip, startLab } from './start-lab.js'

const SECRET = 'k1:keyroll-lab-secret-that-must-never-leak-0123456789'

t.test('keyroll rolls a change over a 3-node cluster', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 3, external: 0, keyroll: true })
  const kr = await keyrollLab(t, lab)
  const cluster = lab.nodes.filter((n) => n.role === 'cluster')
  const endpoints = cluster.map((n) => `${n.address}:${n.port}`)

  await t.test('bad callers and bad input are refused', async (t) => {
    t.equal((await kr.call('GET', '/v1/clusters', undefined, { as: 'none' })).status, 401, 'no token: 401')
    const viewerWrite = await kr.call('POST', '/v1/plans', { cluster: 'lab', change: { revision: 1, files: {} } }, { as: 'viewer' })
    t.equal(viewerWrite.status, 403, 'a viewer token on a write: 403')
    const malformed = await kr.call('POST', '/v1/rollouts', '{"cluster": ', { contentType: 'application/json' })
    t.equal(malformed.status, 400, 'a malformed body: 400')
    t.match(malformed.json, { code: String, message: String }, 'with a code and a message')
    const agent = cluster[0]
    if (agent === undefined) throw new Error('no cluster node')
    // Without a client certificate from the agents' CA the TLS handshake or the request is refused.
    const anon = await httpsGet(`https://${agent.address}:${AGENT_PORT}/v1/status`, { ca: lab.ca.pem }).catch((err: Error) => ({ status: 0, body: err.message }))
    t.not(anon.status, 200, `an agent refuses a caller without a client certificate (${anon.status} ${anon.body.slice(0, 80)})`)
  })

  await t.test('nodes restart one at a time, clients notice nothing, events carry the journal', async (t) => {
    // What the load uses: an enclave and key made through one node must work through every node.
    const admin = createMinkmsClient({ endpoints, apiKey: lab.rootKey('cluster'), ca: lab.ca.pem })
    t.teardown(async () => { await admin.close() })
    await admin.createEnclave('load')
    await admin.createKey('load', 'load-key')
    const before = await Promise.all(cluster.map(async (n) => await kr.invocation(n)))
    const sinceUs = Date.now() * 1000

    const load = startClientLoad({ endpoints, apiKey: lab.rootKey('cluster'), ca: lab.ca.pem, enclave: 'load', key: 'load-key', perSecond: 25 })
    const samples: number[] = []
    const sampler = setInterval(() => {
      Promise.all(cluster.map(async (n) => (await httpsGet(`https://${n.address}:${n.port}/v1/health/ready`, { ca: lab.ca.pem, timeoutMs: 500 }).catch(() => ({ status: 0 }))).status === 200))
        .then((ok) => { samples.push(ok.filter(Boolean).length) }, () => {})
    }, 100)
    t.teardown(() => { clearInterval(sampler) })

    const change = {
      revision: 1,
      files: { config: { set: { 'cache.expiry.any': '5m' } }, env: { set: { KEYROLL_LAB_NOTE: { $secret: SECRET } } } },
      verify: { deadline: '30s', stableFor: '1s' }
    }
    const rollout = await kr.roll(change)
    t.equal(rollout.cluster, 'lab')
    t.notOk(JSON.stringify(rollout).includes(SECRET), 'the started rollout does not echo the secret')
    const events = await kr.follow(rollout.id)
    clearInterval(sampler)
    const report = await load.stop()

    const done = (await kr.call('GET', `/v1/rollouts/${rollout.id}`)).json as Rollout
    t.equal(done.state, 'succeeded', `the rollout succeeded (${done.message ?? ''})`)
    t.same(done.nodes.map((s) => s.state), ['done', 'done', 'done'], 'every node done')
    const after = await Promise.all(cluster.map(async (n) => await kr.invocation(n)))
    cluster.forEach((n, i) => { t.not(after[i], before[i], `${n.name} restarted`) })

    const windows = (await Promise.all(cluster.map(async (n) => await downWindows(lab, n, sinceUs)))).flat()
    t.equal(windows.length, 3, 'one restart per node in the journals')
    t.same(overlaps(windows), [], 'never two nodes down at once (journal timestamps)')
    t.ok(samples.length > 10, `readiness sampled every 100 ms (${samples.length} samples)`)
    t.ok(samples.every((n) => n >= cluster.length - 1), `at least N-1 nodes ready in every sample (min ${Math.min(...samples)})`)

    const seconds = (report.stoppedAt - report.startedAt) / 1000
    t.equal(report.failed, 0, `no failed client operation (${report.ok} ok; ${JSON.stringify(report.failures.slice(0, 3))})`)
    t.ok(report.ok / seconds >= 20, `at least 20 round trips per second (${(report.ok / seconds).toFixed(1)})`)

    for (const n of cluster) {
      const lines = events.filter((e: RolloutEvent) => e.type === 'journal' && e.node === n.name)
      t.ok(lines.some((e) => e.message.includes('Server is up and running')), `the events hold ${n.name}'s journal lines, ready line included`)
    }
    t.same(events.map((e) => e.index), events.map((_, i) => i), 'event indexes have no gaps')
    t.notOk(JSON.stringify(events).includes(SECRET), 'no secret in the events')
    const audit = await kr.call('GET', '/v1/audit?from=1', undefined, { as: 'viewer' })
    t.equal(audit.status, 200)
    t.notOk(audit.text.includes(SECRET), 'no secret in the audit log')
    const coord = lab.node('coord')
    const stored = await lab.exec(coord, ['grep', '-rlF', SECRET, '/var/lib/keyroll-coordinator'], { okCodes: [0, 1] })
    t.equal(stored.stdout.trim(), '', 'no secret in clear in the coordinator\'s state (store, WAL, keys)')
    t.notOk((await lab.journal(coord, 'keyroll-coordinator')).includes(SECRET), "no secret in the coordinator's log")
    for (const n of cluster) t.notOk((await lab.journal(n, 'keyroll-agent')).includes(SECRET), `no secret in ${n.name}'s agent log`)
    t.match(await lab.readFile(cluster[0] ?? 'node1', '/etc/default/minkms'), SECRET, 'while the secret did reach the node (the test can see it)')
  })

  await t.test('a second rollout on a busy cluster is refused', async (t) => {
    const change = { revision: 2, files: { config: { set: { 'cache.expiry.any': '6m' } } }, verify: { deadline: '30s', stableFor: '1s' } }
    const first = await kr.roll(change)
    const plan = await kr.call('POST', '/v1/plans', { cluster: 'lab', change: { ...change, revision: 3 } })
    const second = await kr.call('POST', '/v1/rollouts', { cluster: 'lab', change: { ...change, revision: 3 }, planHash: (plan.json as { planHash?: string }).planHash ?? 'x' })
    t.equal(second.status, 409, `409 while ${first.id} runs (${second.text.slice(0, 120)})`)
    await kr.follow(first.id)
    const done = (await kr.call('GET', `/v1/rollouts/${first.id}`)).json as Rollout
    t.equal(done.state, 'succeeded', 'the first one completes')
  })

  await t.test('a node that fails its restart is rolled back by its agent; the rollout halts before the next node', async (t) => {
    const [, node2, node3] = cluster
    if (node2 === undefined || node3 === undefined) throw new Error('3 nodes expected')
    await lab.writeFile(node2, '/var/lib/minkms-emu/faults/exit-1-if-config', 'any: 17m\n')
    t.teardown(async () => { await lab.exec(node2, ['rm', '-f', '/var/lib/minkms-emu/faults/exit-1-if-config']) })
    const node3Files = [await lab.readFile(node3, '/etc/minkms/config.yaml'), await lab.readFile(node3, '/etc/default/minkms')]
    const node3Invocation = await kr.invocation(node3)

    const rollout = await kr.roll({ revision: 4, files: { config: { set: { 'cache.expiry.any': '17m' } } }, verify: { deadline: '20s', stableFor: '1s' } })
    // The real `keyroll rollout watch`, as an operator runs it from the three exported variables,
    // follows the same rollout while the test reads the events itself.
    const watching = keyrollWatch(rollout.id, kr.files)
    const events = await kr.follow(rollout.id)
    const watch = await watching
    const done = (await kr.call('GET', `/v1/rollouts/${rollout.id}`)).json as Rollout
    t.equal(done.state, 'failed', 'the rollout failed')
    t.match(done.message, /node2/, `its message names node2 (${done.message ?? ''})`)
    t.match(done.nodes[1], { node: 'node2', state: 'failed', result: { result: 'rolled-back' } }, 'node2 was rolled back by its agent')
    t.not(done.nodes[2]?.state, 'done', 'node3 was not changed')
    t.same([await lab.readFile(node3, '/etc/minkms/config.yaml'), await lab.readFile(node3, '/etc/default/minkms')], node3Files, "node3's files are byte-identical")
    t.equal(await kr.invocation(node3), node3Invocation, 'node3 was not restarted (same InvocationID)')
    t.ok(events.some((e) => e.node === 'node2' && e.type === 'journal' && /fault injection: exit-1-if-config/.test(e.message)),
      "the events hold node2's fatal journal line")
    t.equal(watch.code, 1, `keyroll rollout watch exits 1 on the failed rollout (stderr: ${watch.stderr.slice(0, 200)})`)
    const said = watch.stdout + watch.stderr
    t.match(said, /node2/, 'watch names the failed node')
    t.match(said, /fault injection: exit-1-if-config/, "watch shows node2's journal evidence")
    t.match(said, /rolled.back/, 'watch says node2 was rolled back')
  })

  await t.test('a node that comes up but does not rejoin its cluster fails the gate, though its verdict is ok', async (t) => {
    const node3 = cluster[2]
    if (node3 === undefined) throw new Error('3 nodes expected')
    await lab.writeFile(node3, '/var/lib/minkms-emu/faults/refuse-peers', '')
    t.teardown(async () => {
      await lab.exec(node3, ['rm', '-f', '/var/lib/minkms-emu/faults/refuse-peers'])
      await lab.systemctl(node3, 'restart', 'minkms')
      await lab.waitFor(async () => (await httpsGet(`https://${node3.address}:${node3.port}/v1/health/ready?write`, { ca: lab.ca.pem }).catch(() => ({ status: 0 }))).status === 200,
        { timeoutMs: 30_000, what: 'the cluster to accept writes again' })
    })
    const rollout = await kr.roll({ revision: 5, files: { config: { set: { 'cache.expiry.any': '18m' } } }, verify: { deadline: '20s', stableFor: '1s' } },
      { healthyDeadline: '15s' })
    await kr.follow(rollout.id)
    const done = (await kr.call('GET', `/v1/rollouts/${rollout.id}`)).json as Rollout
    t.equal(done.state, 'failed', 'the rollout failed')
    const step = done.nodes[2]
    t.equal(step?.node, 'node3')
    t.equal(step?.verdict?.ok, true, "the agent's verdict on node3 was ok")
    t.equal(step?.gate?.ok, false, 'the cluster gate failed it')
    t.equal(step?.gate?.internode?.ok, false, 'because node3 is not up in its peers\' cluster status')
    const took = (step?.finishedAt ?? 0) - (step?.startedAt ?? 0)
    t.ok(took < 15_000 + 30_000, `within healthyDeadline plus the restart (${took} ms)`)
  })
})

/** Runs the compiled `keyroll rollout watch ID` (plain output: not a TTY) with the lab's viewer token; resolves with its exit code and output. */
async function keyrollWatch (id: string, files: { url: string, ca: string, viewerTokenFile: string }): Promise<{ code: number, stdout: string, stderr: string }> {
  const bin = join(repoRoot(), 'coordinator/bin/keyroll.js')
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', KEYROLL_URL: files.url, KEYROLL_CA: files.ca, KEYROLL_TOKEN_FILE: files.viewerTokenFile }
  return await new ChildProcessRunner().run(process.execPath, [bin, 'rollout', 'watch', id], { env, timeoutMs: 120_000, okCodes: [0, 1, 2] })
}
