// Lab tier, keyroll when things break: the real coordinator under its real unit
// (systemd/keyroll-coordinator.service, Restart=always) SIGKILLed at five points of one rollout
// resumes each time and restarts every node exactly once; a node powered off mid-rollout makes the
// rollout wait (or pause), and when it boots its agent converges through a boot slot and the
// rollout completes. One lab for every scenario here.
import t from 'tap'
import { Agent, request } from 'undici'
import type { AuditEntryView } from '../../shared/schemas/audit.js'
import type { NodeHealth } from '../../shared/schemas/cluster.js'
import type { Rollout, RolloutEvent, StepState } from '../../shared/schemas/rollout.js'
import { keyrollLab, type KeyrollLab } from './keyroll-lab.js'
import { coordinatorRun, crashCoordinator, type Crash } from './coordinator-unit.js'
import { COORDINATOR_STATE } from './lab-keyroll.js'
import { downWindows, overlaps } from './minkms-downtime.js'
import { labSkip, startLab, type Lab, type LabNode, type TeardownHost } from './start-lab.js'

const RESTARTED = 'the coordinator restarted'
const KEYROLL_JS = '/opt/keyroll/coordinator/bin/keyroll.js'

/** The stored events of a rollout from `from`, without following (`?follow=0`). */
async function storedEvents (kr: KeyrollLab, id: string, from = 0): Promise<RolloutEvent[]> {
  const r = await kr.call('GET', `/v1/rollouts/${id}/events?from=${from}&follow=0`, undefined, { as: 'viewer' })
  if (r.status !== 200) throw new Error(`events of ${id}: ${r.status} ${r.text}`)
  return r.text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== '{}').map((l) => JSON.parse(l) as RolloutEvent)
}

async function rolloutOf (kr: KeyrollLab, id: string): Promise<Rollout> {
  const r = await kr.call('GET', `/v1/rollouts/${id}`)
  if (r.status !== 200) throw new Error(`rollout ${id}: ${r.status} ${r.text}`)
  return r.json as Rollout
}

/** The state of `node`'s step after `events` (its last `step` event), or undefined before its first. */
function stepState (events: readonly RolloutEvent[], node: string): StepState | undefined {
  const last = events.filter((e) => e.type === 'step' && e.node === node).at(-1)
  return (last?.data as { state?: StepState } | undefined)?.state
}

const isStep = (e: RolloutEvent, node: string, state: StepState): boolean =>
  e.type === 'step' && e.node === node && (e.data as { state?: string } | undefined)?.state === state

/** A boot slot asked for as `node`'s agent asks (its client certificate): what a converging node holds. */
async function slotClient (t: TeardownHost, lab: Lab, kr: KeyrollLab, node: LabNode): Promise<{
  take: () => Promise<string>
  release: (slotId: string) => Promise<number>
}> {
  const [cert, key] = await Promise.all(['crt', 'key'].map(async (x) => await lab.readFile(node, `/etc/keyroll/agent-client.${x}`)))
  const dispatcher = new Agent({ connect: { ca: lab.ca.pem, cert, key } })
  t.teardown(async () => { await dispatcher.close() })
  const post = async (path: string, body: unknown): Promise<{ status: number, text: string }> => {
    const res = await request(`${kr.files.url}${path}`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.statusCode, text: await res.body.text() }
  }
  return {
    take: async () => {
      const r = await post('/v1/convergence/slots', { node: node.name, unit: 'minkms.service', revision: 1 })
      if (r.status !== 201) throw new Error(`slot for ${node.name}: ${r.status} ${r.text}`)
      return (JSON.parse(r.text) as { slotId: string }).slotId
    },
    release: async (slotId) => (await post(`/v1/convergence/slots/${slotId}/release`, { revision: 1, result: 'ok', message: 'test slot' })).status
  }
}

/** Waits until the coordinator sees every node of the cluster healthy. */
// Only answers read from now on count: the health view may serve an answer up to its TTL (5 s)
// old, which can predate a power-off and a boot (a resume sent on such an answer found node3's
// agent still down and paused the rollout again).
async function clusterHealthy (lab: Lab, kr: KeyrollLab, what: string): Promise<void> {
  const since = Date.now()
  await lab.waitFor(async () => {
    const r = await kr.call('GET', '/v1/nodes?cluster=lab', undefined, { as: 'viewer' })
    return r.status === 200 && (r.json as NodeHealth[]).every((n) => n.healthy && (n.checkedAt ?? 0) >= since)
  }, { timeoutMs: 90_000, intervalMs: 250, what })
}

t.test('keyroll survives a crashing coordinator and a powered-off node', { skip: labSkip }, async (t) => {
  const lab = await startLab(t, { nodes: 3, external: 0, keyroll: true })
  const kr = await keyrollLab(t, lab)
  const cluster = lab.nodes.filter((n) => n.role === 'cluster')
  const [node1, node2, node3] = cluster
  if (node1 === undefined || node2 === undefined || node3 === undefined) throw new Error('3 cluster nodes expected')
  // node3's config before keyroll changed it: the "old backup" restored while it is powered off.
  const originalConfig = await lab.readFile(node3, '/etc/minkms/config.yaml')

  await t.test('SIGKILLed at 5 points of a rollout, the coordinator resumes each time; every node restarts once', async (t) => {
    const t0 = Date.now()
    const before = await Promise.all(cluster.map(async (n) => await kr.invocation(n)))
    const unitBefore = await coordinatorRun(lab)
    const sinceUs = Date.now() * 1000
    // A boot slot held by node3 makes node1 wait before its step: a kill there is before a node,
    // however fast the coordinator prepares the step.
    const slots = await slotClient(t, lab, kr, node3)
    const slotId = await slots.take()
    const rollout = await kr.roll({ revision: 1, files: { config: { set: { 'cache.expiry.any': '5m' } } }, verify: { deadline: '30s', stableFor: '1s' } },
      { minHealthyTime: '3s' })

    // Each point: the event that shows the rollout got there, then what to do once the
    // coordinator is back. The 3 s minHealthyTime keeps the gate (checks, then the hold) open
    // for longer than a kill takes to land.
    const points: Array<{ name: string, hit: (e: RolloutEvent) => boolean, then?: () => Promise<void> }> = [
      {
        name: 'before a node (node1 waits for a boot slot)',
        hit: (e) => e.type === 'info' && e.node === 'node1' && /waits/.test(e.message),
        then: async () => { t.equal(await slots.release(slotId), 204, 'the boot slot is released after the restart') }
      },
      { name: 'mid-apply (node1\'s first apply line)', hit: (e) => e.type === 'apply' && e.node === 'node1' },
      { name: 'after a verdict (node1\'s)', hit: (e) => e.type === 'verdict' && e.node === 'node1' },
      {
        name: 'during the gate (node2\'s first gate check)',
        hit: (e) => e.type === 'gate' && e.node === 'node2',
        // Paused while node2 is still in its gate: node2 finishes, node3 does not start, so the
        // next kill lands between two nodes whatever the timing.
        then: async () => {
          const r = await kr.call('POST', `/v1/rollouts/${rollout.id}/pause`, {})
          t.equal(r.status, 200, `paused after the restart (${r.text.slice(0, 120)})`)
        }
      },
      {
        name: 'between nodes (node2 done, node3 not started)',
        hit: (e) => isStep(e, 'node2', 'done'),
        then: async () => {
          const r = await kr.call('POST', `/v1/rollouts/${rollout.id}/resume`, {})
          t.equal(r.status, 200, `resumed after the restart (${r.text.slice(0, 120)})`)
        }
      }
    ]

    const streamed: RolloutEvent[] = []
    const kills: Array<{ name: string, seenIndex: number } & Crash> = []
    for (let connections = 0; connections < 20; connections++) {
      let crash: Promise<Crash> | undefined
      let hit: { name: string, seenIndex: number, then?: () => Promise<void> } | undefined
      const from = (streamed.at(-1)?.index ?? -1) + 1
      await kr.follow(rollout.id, (e) => {
        streamed.push(e)
        const p = points[kills.length + (hit === undefined ? 0 : 1)]
        if (hit === undefined && p !== undefined && p.hit(e)) {
          hit = { name: p.name, seenIndex: e.index, ...(p.then === undefined ? {} : { then: p.then }) }
          crash = crashCoordinator(lab, kr)
          crash.catch(() => {})
        }
      }, from).catch(() => { /* the stream breaks when the coordinator dies */ })
      if (crash === undefined || hit === undefined) {
        if (['succeeded', 'failed', 'aborted', 'reverted'].includes((await rolloutOf(kr, rollout.id)).state)) break
        continue
      }
      kills.push({ name: hit.name, seenIndex: hit.seenIndex, ...await crash })
      await hit.then?.()
    }
    const totalMs = Date.now() - t0

    t.equal(kills.length, 5, `killed at every point (${kills.map((k) => k.name).join('; ')})`)
    const done = await rolloutOf(kr, rollout.id)
    t.equal(done.state, 'succeeded', `the rollout succeeded (${done.message ?? ''})`)
    t.same(done.nodes.map((s) => s.state), ['done', 'done', 'done'], 'every node done')

    // The store's own record of each kill: the events stored before each restart's "resuming" event.
    const events = await storedEvents(kr, rollout.id)
    t.same(events.map((e) => e.index), events.map((_, i) => i), `event indexes have no gaps (${events.length} events)`)
    t.same(streamed.map((e) => e.index), events.map((e) => e.index), 'the reconnected streams delivered every event once, in order')
    const restarts = events.filter((e) => e.type === 'info' && e.message.startsWith(RESTARTED))
    t.equal(restarts.length, 5, 'five restarts, each resumed from the store')
    const atKill = kills.map((k, i) => {
      const prefix = events.filter((e) => e.index < (restarts[i]?.index ?? -1))
      return { ...k, prefix, node1: stepState(prefix, 'node1'), node2: stepState(prefix, 'node2'), node3: stepState(prefix, 'node3') }
    })
    for (const k of atKill) t.ok(k.seenIndex < (k.prefix.at(-1)?.index ?? -1) + 1, `${k.name}: the event that marks it (${k.seenIndex}) came before the kill`)
    const [k1, k2, k3, k4, k5] = atKill
    t.ok(k1 !== undefined && k1.node1 === undefined && !k1.prefix.some((e) => e.node === 'node1' && e.type === 'apply'), 'kill 1: node1 not yet applying')
    t.ok(k2 !== undefined && k2.node1 === 'applying' && !k2.prefix.some((e) => e.node === 'node1' && e.type === 'verdict'), `kill 2: node1 applying, no verdict yet (${k2?.node1 ?? '-'})`)
    t.ok(k3 !== undefined && (k3.node1 === 'gating' || k3.node1 === 'healthy'), `kill 3: node1 has its verdict, gating or holding (${k3?.node1 ?? '-'})`)
    t.ok(k4 !== undefined && (k4.node2 === 'gating' || k4.node2 === 'healthy'), `kill 4: node2 in its gate (${k4?.node2 ?? '-'})`)
    t.ok(k5 !== undefined && k5.node2 === 'done' && k5.node3 === undefined, `kill 5: node2 done, node3 not started (${k5?.node2 ?? '-'}, ${k5?.node3 ?? 'pending'})`)

    // Exactly one restart per node: InvocationIDs and the journals' down windows.
    const after = await Promise.all(cluster.map(async (n) => await kr.invocation(n)))
    cluster.forEach((n, i) => { t.not(after[i], before[i], `${n.name} restarted`) })
    const windows = await Promise.all(cluster.map(async (n) => await downWindows(lab, n, sinceUs)))
    cluster.forEach((n, i) => { t.equal(windows[i]?.length, 1, `${n.name}'s minkms restarted exactly once (${windows[i]?.length ?? 0} windows in its journal)`) })
    cluster.forEach((n, i) => { t.equal(windows[i]?.[0]?.invocationId.replace(/-/g, ''), after[i]?.replace(/-/g, ''), `${n.name}'s one restart is its current InvocationID`) })
    t.same(overlaps(windows.flat()), [], 'never two nodes down at once')
    for (const n of cluster) {
      const cursors = events.filter((e) => e.type === 'journal' && e.node === n.name).map((e) => (e.data as { cursor: string }).cursor)
      t.equal(new Set(cursors).size, cursors.length, `${n.name}'s journal lines stored once each across the restarts (${cursors.length})`)
    }
    t.equal((await coordinatorRun(lab)).restarts - unitBefore.restarts, 5, 'systemd restarted the unit 5 times (NRestarts), no more')

    // The store survived five SIGKILLs: SQLite's own check, and the audit chain.
    const node = ['/usr/bin/env', '-u', 'NODE_OPTIONS', '/usr/bin/node']
    const integrity = await lab.exec('coord', [...node, '-e',
      'const D = require(\'/opt/keyroll/node_modules/better-sqlite3\'); const db = new D(process.argv[1], { readonly: true }); console.log(db.pragma(\'integrity_check\', { simple: true }))',
      `${COORDINATOR_STATE}/keyroll.db`])
    t.equal(integrity.stdout.trim(), 'ok', 'SQLite integrity_check: ok')
    const verify = await lab.exec('coord', [...node, KEYROLL_JS, 'audit', 'verify', '--state-dir', COORDINATOR_STATE], { okCodes: [0, 1] })
    t.equal(verify.code, 0, `keyroll audit verify passes (${verify.stdout.trim().split('\n').at(-1) ?? ''})`)
    const audit = (await kr.call('GET', '/v1/audit?from=1', undefined, { as: 'viewer' })).json as AuditEntryView[]
    t.equal(audit.filter((a) => a.action === 'rollout.finish' && a.target === rollout.id).length, 1, 'the rollout finished once in the audit log')

    const ms = kills.map((k) => `${k.restartMs}/${k.readyMs}`).join(', ')
    t.comment(`kill → new unit run / → ready (ms): ${ms}; rollout with 5 kills: ${totalMs} ms`)
    t.ok(kills.every((k) => k.readyMs < 30_000), `each restart ready within 30 s (${ms})`)
  })

  await t.test('a node powered off mid-rollout: the rollout waits, the node converges through a boot slot, the rollout completes', async (t) => {
    const t0 = Date.now()
    const sinceUs = Date.now() * 1000
    const rollout = await kr.roll({ revision: 2, files: { config: { set: { 'cache.expiry.any': '6m' } } }, verify: { deadline: '30s', stableFor: '1s' } },
      { canary: true, onUnhealthy: 'wait' })
    t.equal(rollout.strategy.onUnhealthy, 'wait')
    // The canary (node1) is done and the rollout waits for promotion: node3 goes down between
    // nodes, not while node1's gate asks for write readiness (writes need every node).
    await lab.waitFor(async () => (await rolloutOf(kr, rollout.id)).state === 'awaiting-promotion', { timeoutMs: 90_000, intervalMs: 200, what: 'the canary to finish' })
    const held = await Promise.all([node1, node2].map(async (n) => await kr.invocation(n)))

    const offAt = Date.now()
    await lab.powerOff(node3)
    const offMs = Date.now() - offAt
    // Its config as an old backup had it, restored while it was off: at boot its agent finds the
    // files off its desired revision and must converge, which needs a slot from the coordinator.
    await lab.writeFile(node3, '/etc/minkms/config.yaml', originalConfig)
    t.equal((await kr.call('POST', `/v1/rollouts/${rollout.id}/promote`, {})).status, 200, 'promoted')

    const waiting = await lab.waitFor(async () => (await storedEvents(kr, rollout.id)).find((e) => e.type === 'info' && e.node === 'node2' && /waits/.test(e.message)),
      { timeoutMs: 60_000, intervalMs: 200, what: 'node2 to wait for the cluster' })
    t.match(waiting.message, /node3/, `the wait names node3 (${waiting.message})`)
    const meanwhile = await rolloutOf(kr, rollout.id)
    t.equal(meanwhile.state, 'running', 'the rollout is running (waiting), not paused or halted')
    t.equal(meanwhile.nodes[1]?.state, 'pending', 'node2 not started')

    const bootAt = Date.now()
    const bootUs = bootAt * 1000
    await lab.boot(node3)
    const bootMs = Date.now() - bootAt
    t.same(await Promise.all([node1, node2].map(async (n) => await kr.invocation(n))), held, 'node1 and node2 untouched while node3 was off (same InvocationIDs)')

    const events = await kr.follow(rollout.id)
    const done = await rolloutOf(kr, rollout.id)
    t.equal(done.state, 'succeeded', `the rollout succeeded (${done.message ?? ''})`)
    t.same(done.nodes.map((s) => s.state), ['done', 'done', 'done'], 'every node done')

    const audit = (await kr.call('GET', '/v1/audit?from=1', undefined, { as: 'viewer' })).json as AuditEntryView[]
    const grant = audit.find((a) => a.action === 'slot.grant' && a.at >= bootAt && a.detail.node === 'node3')
    const release = audit.find((a) => a.action === 'slot.release' && a.at >= bootAt && a.detail.node === 'node3')
    t.ok(grant !== undefined, 'the coordinator granted node3 a boot slot (audit slot.grant)')
    t.equal(release?.detail.result, 'changed', 'node3 released it after converging (result changed)')
    t.match(await lab.journal(node3, 'keyroll-agent'), /coordinator granted a convergence slot/, "node3's agent logged the grant")

    const applying = (n: string): number => events.find((e) => isStep(e, n, 'applying'))?.at ?? Number.NaN
    const node3Windows = await downWindows(lab, node3, bootUs)
    const forStep = node3Windows.filter((w) => w.fromUs >= applying('node3') * 1000)
    const converge = node3Windows.filter((w) => w.fromUs < applying('node3') * 1000)
    t.equal(forStep.length, 1, "node3's minkms restarted once for the rollout's step")
    t.equal(converge.length, 1, 'and once before it, converging in its slot')
    t.ok(converge.every((w) => grant !== undefined && release !== undefined && w.fromUs >= grant.at * 1000 && w.toUs <= release.at * 1000), 'the convergence restart inside the slot')
    for (const n of [node1, node2]) t.equal((await downWindows(lab, n, sinceUs)).length, 1, `${n.name} restarted once in this rollout`)
    t.ok(applying('node2') > (release?.at ?? Infinity), 'node2 started only after node3 converged and gave its slot back')
    const waitedMs = applying('node2') - waiting.at
    t.comment(`poweroff ${offMs} ms, boot ${bootMs} ms, node2 waited ${waitedMs} ms (wait event → node2 applying), rollout ${Date.now() - t0} ms`)
  })

  await t.test('with onUnhealthy: pause, a node powered off mid-rollout pauses it; resumed once the node is back, it completes', async (t) => {
    const t0 = Date.now()
    const sinceUs = Date.now() * 1000
    const rollout = await kr.roll({ revision: 3, files: { config: { set: { 'cache.expiry.any': '7m' } } }, verify: { deadline: '30s', stableFor: '1s' } },
      { canary: true, onUnhealthy: 'pause' })
    await lab.waitFor(async () => (await rolloutOf(kr, rollout.id)).state === 'awaiting-promotion', { timeoutMs: 90_000, intervalMs: 200, what: 'the canary to finish' })
    const held = await kr.invocation(node2)
    await lab.powerOff(node3)
    t.equal((await kr.call('POST', `/v1/rollouts/${rollout.id}/promote`, {})).status, 200, 'promoted')
    const paused = await lab.waitFor(async () => { const r = await rolloutOf(kr, rollout.id); return r.state === 'paused' ? r : undefined },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the rollout to pause' })
    t.match(paused.message, /node3/, `paused, naming node3 (${paused.message ?? ''})`)
    t.equal(paused.nodes[1]?.state, 'pending', 'node2 not started')
    const bootUs = Date.now() * 1000
    await lab.boot(node3)
    await clusterHealthy(lab, kr, 'every node healthy again')
    t.equal(await kr.invocation(node2), held, 'node2 untouched while paused')
    t.equal((await kr.call('POST', `/v1/rollouts/${rollout.id}/resume`, {})).status, 200, 'resumed')
    await kr.follow(rollout.id)
    const done = await rolloutOf(kr, rollout.id)
    t.equal(done.state, 'succeeded', `the rollout succeeded (${done.message ?? ''})`)
    for (const n of [node1, node2]) t.equal((await downWindows(lab, n, sinceUs)).length, 1, `${n.name} restarted once in this rollout`)
    t.equal((await downWindows(lab, node3, bootUs)).length, 1, 'node3 restarted once after its boot (in sync: no convergence), for the step')
    t.comment(`pause scenario: ${Date.now() - t0} ms`)
  })
})
