// The RolloutStore contract as tests, run against every implementation (memory-rollout-store.test.ts,
// sqlite-rollout-store.test.ts): an engine or route tested on the in-memory store then behaves the
// same on SQLite. Each implementation's file adds what only it can show (a reopened file, its bytes).
import type { Test } from 'tap'
import { verifyAuditChain } from '../../../../coordinator/audit/audit-chain.js'
import type { RolloutStore, Slot, StoredRollout } from '../../../../coordinator/store/rollout-store.js'
import type { Rollout, RolloutState } from '../../../../shared/schemas/rollout.js'

/** Makes a fresh, empty store; the factory registers its own teardown. */
export type StoreFactory = (t: Test) => Promise<RolloutStore>

/** A valid rollout view (what the API shows: the change masked). */
export function rollout (id: string, cluster: string, state: RolloutState, createdAt: number, extra: Partial<Rollout> = {}): Rollout {
  return {
    id,
    cluster,
    revision: 7,
    planHash: 'a'.repeat(64),
    change: {
      revision: 7,
      files: { env: { set: { MINIO_KMS_API_KEY: '***' }, unset: [] } },
      restart: 'on-change',
      verify: { deadline: '60s', stableFor: '5s' },
      redacted: true
    },
    strategy: { maxParallel: 1, canary: false, healthyDeadlineMs: 120000, progressDeadlineMs: 600000, minHealthyTimeMs: 5000, failureBudget: 0, autoRevert: false, onUnhealthy: 'wait' },
    state,
    createdBy: 'alice',
    createdAt,
    updatedAt: createdAt,
    nodes: [{ node: 'node1', state: 'pending' }, { node: 'node2', state: 'pending' }],
    ...extra
  }
}

function storedOf (r: Rollout): StoredRollout {
  return { rollout: r, sealedChange: `sealed:${r.id}` }
}

function slotOf (id: string, cluster: string, grantedAt: number, expiresAt: number): Slot {
  return { id, cluster, node: `node-${id}`, revision: 3, grantedAt, expiresAt }
}

/** Runs the contract against one implementation. */
export function storeConformance (t: Test, make: StoreFactory): void {
  t.test('create, get, save, list, active', async t => {
    const s = await make(t)
    const old = rollout('r0', 'c1', 'succeeded', 500)
    const r1 = rollout('r1', 'c1', 'running', 1000)
    const r2 = rollout('r2', 'c2', 'pending', 2000)
    for (const r of [old, r1, r2]) await s.createRollout(storedOf(r))

    t.same(await s.getRollout('r1'), { rollout: r1, sealedChange: 'sealed:r1' }, 'get returns the view and the sealed change')
    t.equal(await s.getRollout('nope'), undefined, 'unknown id')

    const got = await s.getRollout('r1')
    if (got !== undefined) (got.rollout as { state: string }).state = 'mutated'
    r1.nodes.push({ node: 'intruder', state: 'pending' })
    t.same((await s.getRollout('r1'))?.rollout.state, 'running', 'mutating a returned value changes nothing stored')
    t.same((await s.getRollout('r1'))?.rollout.nodes.length, 2, 'mutating a value handed in changes nothing stored')
    r1.nodes.pop()

    const saved = { ...r1, state: 'paused' as const, updatedAt: 1500, message: 'paused by alice', nodes: [{ node: 'node1', state: 'done' as const, finishedAt: 1400 }, { node: 'node2', state: 'pending' as const }] }
    await s.saveRollout(saved)
    t.same(await s.getRollout('r1'), { rollout: saved, sealedChange: 'sealed:r1' }, 'save replaces the view, keeps the sealed change')
    await t.rejects(s.saveRollout(rollout('ghost', 'c1', 'running', 1)), { code: 'CRD_NOT_FOUND', statusCode: 404 }, 'save of an unknown id')
    await t.rejects(s.saveRollout({ ...saved, cluster: 'c9' }), /cannot move/, 'a rollout stays on its cluster')

    t.same((await s.listRollouts()).map(r => r.id), ['r2', 'r1', 'r0'], 'newest first')
    t.same((await s.listRollouts({ cluster: 'c1' })).map(r => r.id), ['r1', 'r0'], 'by cluster')
    t.same((await s.listRollouts({ limit: 1 })).map(r => r.id), ['r2'], 'limit')
    t.same((await s.listRollouts({ cluster: 'none' })), [], 'no rollouts of an unknown cluster')
    t.same((await s.listRollouts({ cluster: 'c1' }))[0], saved, 'list shows the saved view')

    t.same((await s.activeRollouts()).map(r => r.rollout.id), ['r1', 'r2'], 'active: not terminal, oldest first')
    t.equal((await s.activeRollouts())[0]?.sealedChange, 'sealed:r1', 'active rollouts carry their sealed change')
    await s.saveRollout({ ...saved, state: 'succeeded' })
    t.same((await s.activeRollouts()).map(r => r.rollout.id), ['r2'], 'a finished rollout is no longer active')
  })

  t.test('rollouts created at the same millisecond list newest created first', async t => {
    const s = await make(t)
    for (const id of ['a', 'b', 'c']) await s.createRollout(storedOf(rollout(id, `c-${id}`, 'running', 1000)))
    t.same((await s.listRollouts()).map(r => r.id), ['c', 'b', 'a'])
    t.same((await s.activeRollouts()).map(r => r.rollout.id), ['a', 'b', 'c'])
  })

  t.test('one active rollout per cluster', async t => {
    const s = await make(t)
    await s.createRollout(storedOf(rollout('r1', 'c1', 'running', 1000)))
    const err = await s.createRollout(storedOf(rollout('r2', 'c1', 'pending', 2000))).then(() => undefined, (e: unknown) => e)
    t.match(err, { code: 'CRD_ROLLOUT_CONFLICT', statusCode: 409 }, 'a second active rollout is refused')
    t.match((err as Error).message, /cluster c1 .*r1, running/, 'the refusal names the active rollout')
    t.equal(await s.getRollout('r2'), undefined, 'nothing of the refused rollout is stored')
    await s.createRollout(storedOf(rollout('r3', 'c2', 'pending', 2000)))
    t.pass('another cluster is free')
    await s.createRollout(storedOf(rollout('r4', 'c1', 'aborted', 2500)))
    t.pass('a terminal rollout does not conflict')
    await t.rejects(s.createRollout(storedOf(rollout('r1', 'c5', 'running', 3000))), /exists/, 'an id is stored once')
    await t.rejects(s.saveRollout(rollout('r4', 'c1', 'reverting', 2600)), { code: 'CRD_ROLLOUT_CONFLICT' }, 'reviving a finished rollout while another is active is refused')

    for (const state of ['paused', 'awaiting-promotion', 'reverting', 'pending'] as const) {
      await s.saveRollout(rollout('r1', 'c1', state, 1000))
      await t.rejects(s.createRollout(storedOf(rollout(`x-${state}`, 'c1', 'pending', 4000))), { code: 'CRD_ROLLOUT_CONFLICT' }, `${state} is active`)
    }
    for (const state of ['succeeded', 'failed', 'aborted', 'reverted'] as const) {
      await s.saveRollout(rollout('r1', 'c1', state, 1000))
      await s.createRollout(storedOf(rollout(`y-${state}`, 'c1', 'pending', 4000)))
      t.pass(`${state} frees the cluster`)
      await s.saveRollout(rollout(`y-${state}`, 'c1', 'aborted', 4000))
    }

    const racers = Array.from({ length: 8 }, (_, i) => s.createRollout(storedOf(rollout(`race-${i}`, 'c3', 'pending', 5000 + i))))
    const settled = await Promise.allSettled(racers)
    t.equal(settled.filter(r => r.status === 'fulfilled').length, 1, 'of concurrent creates on one cluster exactly one wins')
    t.ok(settled.filter(r => r.status === 'rejected').every(r => (r.reason as { code?: string }).code === 'CRD_ROLLOUT_CONFLICT'), 'the others are conflicts')
    t.equal((await s.activeRollouts()).filter(r => r.rollout.cluster === 'c3').length, 1)
  })

  t.test('events: indexes from 0 without gaps, even when appended concurrently', async t => {
    const s = await make(t)
    await s.createRollout(storedOf(rollout('r1', 'c1', 'running', 1000)))
    await s.createRollout(storedOf(rollout('r2', 'c2', 'running', 1000)))
    const first = await s.appendEvent('r1', { at: 1, type: 'rollout', message: 'started', data: { state: 'running', nested: { list: [1, 'two', null] } } })
    t.same(first, { index: 0, at: 1, type: 'rollout', message: 'started', data: { state: 'running', nested: { list: [1, 'two', null] } } })
    const second = await s.appendEvent('r1', { at: 2, type: 'journal', node: 'node1', message: 'minkms ready' })
    t.equal(second.index, 1)
    t.same(await s.events('r1'), [first, second], 'read back as appended')

    const appends = Array.from({ length: 60 }, (_, i) => s.appendEvent(i % 2 === 0 ? 'r1' : 'r2', { at: 10 + i, type: 'info', message: `m${i}` }))
    const got = await Promise.all(appends)
    const r1Indexes = got.filter((_, i) => i % 2 === 0).map(e => e.index).sort((a, b) => a - b)
    const r2Indexes = got.filter((_, i) => i % 2 === 1).map(e => e.index).sort((a, b) => a - b)
    t.same(r1Indexes, Array.from({ length: 30 }, (_, i) => i + 2), 'r1: 2..31, no gap, no duplicate')
    t.same(r2Indexes, Array.from({ length: 30 }, (_, i) => i), 'r2: 0..29, indexes are per rollout')
    const all = await s.events('r1')
    t.same(all.map(e => e.index), Array.from({ length: 32 }, (_, i) => i), 'stored oldest first without gaps')
    t.same(new Set(all.slice(2).map(e => e.message)), new Set(Array.from({ length: 30 }, (_, i) => `m${i * 2}`)), 'every appended event is there')

    t.same((await s.events('r1', { from: 30 })).map(e => e.index), [30, 31], 'from')
    t.same((await s.events('r1', { from: 5, limit: 3 })).map(e => e.index), [5, 6, 7], 'from and limit')
    t.same(await s.events('r1', { from: 99 }), [], 'from past the end')
    t.same(await s.events('nope'), [], 'no events of an unknown rollout')
    await t.rejects(s.appendEvent('nope', { at: 1, type: 'info', message: 'x' }), { code: 'CRD_NOT_FOUND' }, 'no events for an unknown rollout')
  })

  t.test('audit: appended in a chain that verifies', async t => {
    const s = await make(t)
    const a = await s.appendAudit({ at: 1000, actor: 'alice', action: 'rollout.create', target: 'r1', planHash: 'b'.repeat(64), detail: { cluster: 'c1', dropped: undefined } })
    t.match(a, { seq: 1, prevHash: '0'.repeat(64), planHash: 'b'.repeat(64) })
    t.same(a.detail, { cluster: 'c1' }, 'detail as JSON stores it')
    t.match(a.hash, /^[0-9a-f]{64}$/)
    const b = await s.appendAudit({ at: 1001, actor: 'system', action: 'rollout.finish', target: 'r1', detail: { verdicts: [{ node: 'node1', ok: true }] } })
    t.match(b, { seq: 2, prevHash: a.hash })
    t.notOk('planHash' in b, 'no planHash when none was given')
    const more = await Promise.all(Array.from({ length: 20 }, (_, i) => s.appendAudit({ at: 2000 + i, actor: 'bob', action: 'rollout.pause', target: `r${i}`, detail: {} })))
    t.same(more.map(e => e.seq).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 3), 'concurrent appends: seq without gaps')

    const all = await s.audit()
    t.equal(all.length, 22)
    t.same(all[0], a, 'read back exactly as returned')
    t.same(all[1], b)
    t.same(verifyAuditChain(all), { ok: true, entries: 22, head: all[21]?.hash }, 'the chain verifies')
    t.same((await s.audit({ from: 21 })).map(e => e.seq), [21, 22], 'from')
    t.same((await s.audit({ from: 2, limit: 2 })).map(e => e.seq), [2, 3], 'from and limit')
  })

  t.test('tokens: by hash, listed, revoked', async t => {
    const s = await make(t)
    await s.putToken({ name: 'ops', role: 'operator', hash: '1'.repeat(64), createdAt: 10 })
    await s.putToken({ name: 'ci', role: 'viewer', hash: '2'.repeat(64), createdAt: 20 })
    t.same(await s.tokenByHash('1'.repeat(64)), { name: 'ops', role: 'operator', hash: '1'.repeat(64), createdAt: 10 })
    t.equal(await s.tokenByHash('3'.repeat(64)), undefined, 'unknown hash')
    t.same((await s.listTokens()).map(x => x.name), ['ci', 'ops'], 'listed by name')

    t.equal(await s.revokeToken('ops', 30), true, 'revoked')
    t.equal(await s.tokenByHash('1'.repeat(64)), undefined, 'a revoked token no longer authenticates')
    t.same((await s.listTokens()).find(x => x.name === 'ops'), { name: 'ops', role: 'operator', hash: '1'.repeat(64), createdAt: 10, revokedAt: 30 }, 'still listed, with when')
    t.equal(await s.revokeToken('ops', 40), false, 'revoking twice changes nothing')
    t.equal((await s.listTokens()).find(x => x.name === 'ops')?.revokedAt, 30, 'the first revocation stands')
    t.equal(await s.revokeToken('nobody', 40), false, 'unknown name')

    await s.putToken({ name: 'ops', role: 'viewer', hash: '4'.repeat(64), createdAt: 50 })
    t.same(await s.tokenByHash('4'.repeat(64)), { name: 'ops', role: 'viewer', hash: '4'.repeat(64), createdAt: 50 }, 'put under an existing name replaces it (rotation)')
    t.equal(await s.tokenByHash('1'.repeat(64)), undefined, 'the old secret is gone')
    await t.rejects(s.putToken({ name: 'other', role: 'viewer', hash: '2'.repeat(64), createdAt: 60 }), /same hash/, 'two names never share a hash')
  })

  t.test('slots: open, expired, released', async t => {
    const s = await make(t)
    await s.putSlot(slotOf('s1', 'c1', 100, 2000))
    await s.putSlot(slotOf('s2', 'c1', 50, 1500))
    await s.putSlot(slotOf('s3', 'c2', 100, 2000))
    t.same((await s.openSlots('c1', 1000)).map(x => x.id), ['s2', 's1'], 'open slots of the cluster, oldest grant first')
    t.same(await s.openSlots('c1', 1000).then(x => x[1]), slotOf('s1', 'c1', 100, 2000), 'read back as put')
    t.same((await s.openSlots('c1', 1500)).map(x => x.id), ['s1'], 'a slot is expired at its expiresAt')
    t.same(await s.openSlots('c9', 0), [], 'no slots of an unknown cluster')

    const released = await s.releaseSlot('s1', 1200, 'converged')
    t.same(released, { ...slotOf('s1', 'c1', 100, 2000), releasedAt: 1200, result: 'converged' })
    t.same((await s.openSlots('c1', 1000)).map(x => x.id), ['s2'], 'a released slot is not open')
    t.same(await s.releaseSlot('s1', 1300, 'again'), released, 'the first release stands')
    t.equal(await s.releaseSlot('nope', 1, 'x'), undefined, 'unknown slot')

    await s.putSlot(slotOf('s2', 'c1', 50, 5000))
    t.same((await s.openSlots('c1', 3000)).map(x => x.expiresAt), [5000], 'put again extends a slot')
  })

  t.test('close', async t => {
    const s = await make(t)
    await s.createRollout(storedOf(rollout('r1', 'c1', 'running', 1000)))
    await s.close()
    await s.close()
    t.pass('close twice is fine')
    await t.rejects(s.getRollout('r1'), /closed/, 'a closed store refuses reads')
    await t.rejects(s.appendEvent('r1', { at: 1, type: 'info', message: 'x' }), /closed/, 'and writes')
    await t.rejects(s.audit(), /closed/)
  })
}
