// A migration that fails, halts, pauses, aborts or loses its coordinator: a failed phase A node
// names itself and resuming completes without restarting done nodes again; phase B is refused
// without every sealed copy; a failing canary halts with every node on its local HSM; a
// coordinator restarted mid-phase resumes with no node restarted twice and no event forwarded twice.
import t from 'tap'
import type { HsmMigration } from '../../../../shared/schemas/hsm-migration.js'
import { BOTH, ended, harness, sealEverywhere, type Harness } from './harness.js'

const restartsOf = (h: Harness): number[] => h.nodes.map((n) => h.agents.node(n).restarts)

t.test('a node failing phase A fails the migration naming it; resume completes, done nodes untouched', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  // node2's change was staged while node1 restarted (the engine's stageNext): it fails as its commit.
  h.agents.script(h.nodes[1]!, 'commitStaged', { outcome: 'rolled-back' })
  const { migration } = await h.hsm.start(h.request({ keepLocalHsm: true }))
  const id = migration?.id ?? ''
  const failed = await h.until(id, ended)
  t.equal(failed.state, 'failed')
  t.equal(failed.phase, 'A')
  t.match(failed.message, /^phase A failed on node node2: /)
  t.equal(failed.nodes[1]?.phases.A?.state, 'failed')
  t.equal(failed.nodes[2]?.phases.A?.state, 'skipped', 'node3 not reached')
  t.same(restartsOf(h), [1, 2, 0], 'node2 restarted and was restored by its agent')
  const firstRollout = failed.rollouts.A

  const resumed = await h.hsm.resume(id, 'alice')
  t.equal(resumed.state, 'running')
  const m = await h.until(id, ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.not(m.rollouts.A, firstRollout, 'a new rollout for phase A')
  t.same(restartsOf(h), [1, 3, 1], 'node1 (done) not restarted again; node2 and node3 once more')
  t.equal(m.nodes[0]?.phases.A?.state, 'done')
  t.equal(m.nodes[0]?.phases.A?.restarts, 1)
  const audit = (await h.rollouts.audit()).map((a) => a.action)
  t.ok(audit.includes('hsm-migration.resume'))
})

t.test('phase B is refused while a node lacks the external HSM\'s sealed copy', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  // The engine's gate sees node3 sealed after its step; the orchestrator's check before phase B
  // no longer does (the copy gone since, say).
  h.probe.script(h.nodes[2]!, 'hsmStatus', { hsms: BOTH }).script(h.nodes[2]!, 'hsmStatus', { hsms: { configured: ['hsm:minio:soft', 'hsm:minio:minkms'], sealed: ['hsm:minio:soft'] } })
  const { migration } = await h.hsm.start(h.request())
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.match(m.message, /^phase B refused: the external HSM hsm:minio:minkms is not configured and sealing on node3 \(configured: hsm:minio:soft, hsm:minio:minkms; sealed: hsm:minio:soft\)/)
  t.equal(m.nodes[2]?.phases.A?.sealed, false)
  t.equal(m.rollouts.B, undefined, 'no phase B rollout')
  t.same(restartsOf(h), [1, 1, 1])
  h.probe.assertNoPendingScripts()
})

t.test('phase B\'s plan is made while every sealed copy is checked; a refused check starts no rollout though the plan was made', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  h.probe.script(h.nodes[2]!, 'hsmStatus', { hsms: BOTH }).script(h.nodes[2]!, 'hsmStatus', { hsms: { configured: ['hsm:minio:soft', 'hsm:minio:minkms'], sealed: ['hsm:minio:soft'] } })
  // Every HSM status takes 5 s of (fake) time to answer: phase B's plan is asked while the check's
  // three questions are still out.
  const hsmStatus = h.probe.hsmStatus.bind(h.probe)
  let asking = 0
  h.probe.hsmStatus = async (node) => {
    asking++
    try {
      await h.clock.sleep(5000)
      return await hsmStatus(node)
    } finally {
      asking--
    }
  }
  const plan = h.engine.plan.bind(h.engine)
  let revisionA: number | undefined
  let checkedWhilePlanning: number | undefined
  h.engine.plan = async (cluster, change, actor) => {
    revisionA ??= change.revision
    if (change.revision > revisionA) checkedWhilePlanning = asking
    return await plan(cluster, change, actor)
  }
  const { migration } = await h.hsm.start(h.request())
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.match(m.message, /^phase B refused: the external HSM hsm:minio:minkms is not configured and sealing on node3 /)
  t.equal(checkedWhilePlanning, 3, 'every node\'s sealed copy was asked while phase B was being planned')
  t.equal(m.rollouts.B, undefined, 'no phase B rollout')
  t.equal((await h.rollouts.listRollouts({ cluster: 'c1' })).length, 1, 'phase A\'s rollout only')
  t.notOk(h.agents.calls.some((c) => (c.op === 'apply' || c.op === 'stage' || c.op === 'commitStaged') && c.revision !== revisionA), 'nothing applied (nor staged) with phase B\'s revision')
  t.same(restartsOf(h), [1, 1, 1])
})

t.test('phase B\'s check passes while its plan fails: the migration fails on the plan, no rollout', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  const plan = h.engine.plan.bind(h.engine)
  let revisionA: number | undefined
  h.engine.plan = async (cluster, change, actor) => {
    revisionA ??= change.revision
    if (change.revision > revisionA) throw new Error('node2: the agent answered 500 (scripted)')
    return await plan(cluster, change, actor)
  }
  const { migration } = await h.hsm.start(h.request())
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.equal(m.message, 'phase B failed: node2: the agent answered 500 (scripted)')
  t.equal(m.rollouts.B, undefined)
  t.ok(m.nodes.every((n) => n.phases.A?.sealed === true), 'the check ran and noted every sealed copy')
  t.same(restartsOf(h), [1, 1, 1])
})

t.test('a resume that starts phase B again checks every sealed copy again: refused while one is gone, then completes', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  // The canary of phase B fails once; while the migration is halted, node2's external copy is removed.
  h.agents.script(h.nodes[0]!, 'apply', { outcome: 'ok' }).script(h.nodes[0]!, 'apply', { outcome: 'rolled-back' })
  const { migration } = await h.hsm.start(h.request())
  const id = migration?.id ?? ''
  const halted = await h.until(id, ended)
  t.match(halted.message, /^phase B failed on node node1/)
  h.probe.setHsms(h.nodes[1]!, { configured: ['hsm:minio:soft', 'hsm:minio:minkms'], sealed: ['hsm:minio:soft'] })
  const before = restartsOf(h)

  await h.hsm.resume(id, 'alice')
  const refused = await h.until(id, ended)
  t.equal(refused.state, 'failed')
  t.equal(refused.phase, 'B', 'still in phase B, so the next resume asks again')
  t.match(refused.message, /^phase B refused: the external HSM hsm:minio:minkms is not configured and sealing on node2 \(configured: hsm:minio:soft, hsm:minio:minkms; sealed: hsm:minio:soft\); no node was touched in phase B/)
  t.same(restartsOf(h), before, 'no node restarted')
  t.equal(refused.nodes[1]?.phases.A?.sealed, false, "node2's phase A view says its copy is missing")

  h.probe.setHsms(h.nodes[1]!, BOTH) // the operator re-added it (CLUSTER:ADDHSM)
  await h.hsm.resume(id, 'alice')
  const done = await h.until(id, ended)
  t.equal(done.state, 'succeeded', done.message ?? '')
  t.equal(done.nodes[1]?.phases.A?.sealed, true)
})

t.test('phase A\'s gate: a node that does not seal with the external HSM is rolled back and named', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  h.probe.setHsms(h.nodes[1]!, { configured: ['hsm:minio:soft'], sealed: ['hsm:minio:soft'] })
  const { migration } = await h.hsm.start(h.request())
  const m = await h.until(migration?.id ?? '', ended)
  t.equal(m.state, 'failed')
  t.match(m.message, /^phase A failed on node node2: .*hsm:minio:minkms/)
  t.equal(m.nodes[1]?.phases.A?.state, 'failed')
  t.equal(m.rollouts.B, undefined)
})

t.test('a canary that cannot start on the external HSM alone halts the migration; the others are untouched', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  // node1's first apply (phase A) goes well, its second (the canary of phase B) does not start.
  h.agents.script(h.nodes[0]!, 'apply', { outcome: 'ok' }).script(h.nodes[0]!, 'apply', { outcome: 'rolled-back' })
  const { migration } = await h.hsm.start(h.request())
  const id = migration?.id ?? ''
  const m = await h.until(id, ended)
  t.equal(m.state, 'failed')
  t.match(m.message, /^phase B failed on node node1: .*every node still has its local HSM/)
  t.same(m.nodes.map((n) => n.phases.B?.state), ['failed', 'skipped', 'skipped'])
  t.same(restartsOf(h), [3, 1, 1], 'the canary restarted and restored; the others only in A')
})

t.test('the coordinator restarted mid phase A and mid phase B: it resumes, no node restarted twice in a phase', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  const { migration } = await h.hsm.start(h.request())
  const id = migration?.id ?? ''
  await h.until(id, (m) => m.nodes[1]?.phases.A?.state === 'done')
  await h.restart()
  await h.until(id, (m) => m.nodes[1]?.phases.B?.state === 'running')
  await h.restart()
  const m = await h.until(id, ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.same(restartsOf(h), [2, 2, 2], 'each node restarted once per phase')
  for (const n of m.nodes) t.same([n.phases.A?.restarts, n.phases.B?.restarts], [1, 1], `${n.name}: one restart per phase in the view`)
  const events = await h.hsm.events(id)
  const journal = events.filter((e) => e.type === 'journal').map((e) => `${e.phase ?? ''} ${e.node ?? ''} ${(e.data as { cursor: string }).cursor}`)
  t.equal(new Set(journal).size, journal.length, 'no journal line forwarded twice')
  t.equal(events.filter((e) => /coordinator restarted/.test(e.message) && e.type === 'info' && e.phase === undefined).length >= 0, true)
})

t.test('killed during provisioning: the resumed run reuses the sealed key and creates nothing new', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  const { migration } = await h.hsm.start(h.request({ keepLocalHsm: true }))
  const id = migration?.id ?? ''
  // The first run provisioned; simulate a crash right after by putting the phase back.
  await h.until(id, (m) => m.provision !== undefined)
  await h.hsm.close()
  const stored = await h.store.getMigration(id)
  const writes = h.kms.writes().length
  await h.store.saveMigration({ ...(stored?.migration as HsmMigration), phase: 'provision', state: 'running' }, stored?.work ?? {})
  await h.restart()
  const m = await h.until(id, ended)
  t.equal(m.state, 'succeeded', m.message ?? '')
  t.equal(h.kms.writes().length, writes, 'nothing created twice')
  t.equal(m.provision?.identityId, stored?.migration.provision?.identityId, 'the same identity')
})

t.test('pause holds the phase rollout; resume goes on; abort ends it aborted', async (t) => {
  const h = harness(t)
  sealEverywhere(h)
  const { migration } = await h.hsm.start(h.request({ keepLocalHsm: true }))
  const id = migration?.id ?? ''
  await h.until(id, (m) => m.nodes[0]?.phases.A?.state === 'done')
  const paused = await h.hsm.pause(id, 'bob')
  t.equal(paused.state, 'paused')
  await h.clock.advance(60_000)
  const still = await h.hsm.get(id)
  t.equal(still?.state, 'paused')
  t.equal((await h.engine.get(still?.rollouts.A ?? ''))?.state, 'paused', 'the rollout is paused')
  const running = await h.hsm.resume(id, 'bob')
  t.equal(running.state, 'running')
  await h.hsm.pause(id, 'bob')
  await h.hsm.abort(id, 'bob')
  const m = await h.until(id, ended)
  t.equal(m.state, 'aborted', m.message ?? '')
  t.equal((await h.engine.get(m.rollouts.A ?? ''))?.state, 'aborted', 'the phase rollout was aborted')
  t.match(m.message, /^aborted in phase A/)
  await t.rejects(h.hsm.resume(id, 'bob'), { code: 'CRD_ROLLOUT_STATE' })
  const actions = (await h.rollouts.audit()).map((a) => a.action)
  for (const a of ['hsm-migration.pause', 'hsm-migration.resume', 'hsm-migration.abort']) t.ok(actions.includes(a), `${a} audited`)
})
