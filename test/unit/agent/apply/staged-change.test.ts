// The applier's staged change: stage plans under the lock and writes nothing; commitStaged runs the
// apply's transaction without planning again, or refuses (not staged, expired, stale, conflict).
import t, { type Test } from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Compile } from 'typebox/compile'
import { InlinePlanner, type Planner } from '../../../../agent/apply/planner.js'
import type { ApplyEvent } from '../../../../agent/core.js'
import { StagedChangeSchema } from '../../../../shared/schemas/staged.js'
import { API_KEY, buildApplier, change, CONFIG, CONFIG_PATH, ENV, ENV_PATH, hsmChange, type ApplierFixtureOptions } from '../../../helpers/applier-fixture.js'
import { FakeClock } from '../../../helpers/fake-clock.js'

const restarts = (calls: string[]): number => calls.filter((c) => c === 'restart').length
const isStaged = Compile(StagedChangeSchema)

/** A planner that counts its plans. */
function countingPlanner (): Planner & { plans: number } {
  const inner = new InlinePlanner()
  const p = { plans: 0, plan: async (...a: Parameters<Planner['plan']>) => { p.plans++; return await inner.plan(...a) }, close: async () => {} }
  return p
}

/** Every file below `dir` with its content, to prove a stage left the state directory alone. */
async function tree (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(`${join(e.parentPath, e.name)}:${await readFile(join(e.parentPath, e.name), 'base64')}`)
  }
  return out.sort()
}

async function code (p: Promise<unknown>): Promise<string> {
  return await p.then(() => 'resolved', (err: unknown) => String((err as { code?: unknown }).code ?? err))
}

async function fixture (t: Test, opts: ApplierFixtureOptions = {}) {
  const dir = t.testdir()
  return { dir, ...await buildApplier(dir, undefined, opts) }
}

const envChange = (revision: number, value = 'x'): ReturnType<typeof change> =>
  change({ revision, files: { env: { set: { MINIO_KMS_TEST: value } } }, verify: { deadline: '10s', stableFor: '0s' } })

t.test('stage plans and answers the staged change; writes nothing, restarts nothing', async (t) => {
  const planner = countingPlanner()
  const clock = new FakeClock()
  const f = await fixture(t, { planner, clock })
  const before = await tree(f.dir)
  const s = await f.applier.stage(hsmChange(1))
  t.ok(isStaged.Check(s), 'answers the schema')
  t.equal(s.revision, 1)
  t.equal(s.stagedAt, clock.now())
  t.equal(s.expiresAt, clock.now() + 600_000, 'ten minutes by default')
  t.equal(s.plan.changed, true)
  t.equal(s.plan.restart, true)
  t.match(s.changeHash, /^[0-9a-f]{64}$/)
  t.equal(planner.plans, 1, 'planned once')
  t.same(f.store.writes, [], 'no file written')
  t.equal(restarts(f.service.calls), 0)
  t.same(await tree(f.dir), before, 'the state directory is as before (the lock file came and went)')
  t.equal((await f.store.read(CONFIG_PATH)).content, CONFIG)
  t.equal(f.applier.staged()?.revision, 1)
})

t.test('commitStaged runs the apply transaction with its events, without planning again', async (t) => {
  const planner = countingPlanner()
  const f = await fixture(t, { planner })
  await f.applier.stage(hsmChange(1))
  const events: ApplyEvent[] = []
  const r = await f.applier.commitStaged(1, { onEvent: (e) => events.push(e) })
  t.equal(r.result, 'changed')
  t.equal(r.restarted, true)
  t.equal(r.verdict?.ok, true)
  t.equal(planner.plans, 1, 'no second plan')
  t.same(events.map((e) => `${e.step}:${e.status}`), ['lock:done', 'plan:done', 'validate:done', 'backup:started', 'backup:done',
    'write:started', 'write:done', 'restart:started', 'restart:done', 'verify:done', 'commit:started', 'commit:done'])
  t.match((await f.store.read(CONFIG_PATH)).content, /hsm:\n {2}minio:\n {4}minkms:/)
  t.equal((await f.state.readApplied())?.revision, 1)
  t.equal((await f.state.readDesired())?.record.revision, 1)
  t.equal((await f.state.readLast())?.revision, 1, 'last.json as after an apply')
  t.equal(restarts(f.service.calls), 1)
  t.equal(f.applier.staged(), undefined, 'consumed')
  t.equal(await code(f.applier.commitStaged(1)), 'AGT_NOT_STAGED', 'a second commit: nothing staged')

  // The same change applied again the ordinary way: already there.
  const again = await f.applier.apply(hsmChange(1))
  t.equal(again.result, 'ok')
})

t.test('a failed verdict at the commit restores the files like an apply; the staged change is consumed', async (t) => {
  const f = await fixture(t)
  f.verifier.script.push(false, true)
  await f.applier.stage(hsmChange(1, { unsetHsmKey: true }))
  const r = await f.applier.commitStaged(1)
  t.equal(r.result, 'rolled-back')
  t.equal((await f.store.read(CONFIG_PATH)).content, CONFIG)
  t.equal((await f.store.read(ENV_PATH)).content, ENV)
  t.equal(await f.state.readApplied(), undefined)
  t.equal(await code(f.applier.commitStaged(1)), 'AGT_NOT_STAGED')
})

t.test('a staged change with nothing to change commits like apply: no write, no restart', async (t) => {
  const f = await fixture(t)
  await f.applier.apply(envChange(1))
  const writes = f.store.writes.length
  const s = await f.applier.stage(envChange(1))
  t.equal(s.plan.changed, false)
  t.equal(s.plan.restart, false)
  const events: ApplyEvent[] = []
  const r = await f.applier.commitStaged(1, { onEvent: (e) => events.push(e) })
  t.equal(r.result, 'ok')
  t.equal(r.restarted, false)
  t.equal(f.store.writes.length, writes)
  t.equal(restarts(f.service.calls), 1, 'only the first apply restarted')
  t.ok(events.some((e) => e.step === 'write' && e.status === 'skipped'))
})

t.test('stage is refused as apply is: stale, conflicting revision, lock held, invalid result, unit not restartable', async (t) => {
  const f = await fixture(t)
  await f.applier.apply(envChange(2))
  t.equal(await code(f.applier.stage(envChange(1))), 'AGT_STALE_REVISION')
  t.equal(await code(f.applier.stage(envChange(2, 'other'))), 'AGT_REVISION_CONFLICT')
  await f.lock.acquire()
  t.equal(await code(f.applier.stage(envChange(3))), 'AGT_CHANGE_CONFLICT')
  await f.lock.release()
  t.equal(await code(f.applier.stage(change({ revision: 3, files: { config: { set: { 'hsm.minio.minkms': { server: [], enclave: 'e', key: 'k', auth: { key: 'k1:nope' } } } } } }))), 'AGT_INVALID_RESULT')
  f.service.current = { ...f.service.current, loadState: 'not-found' }
  t.equal(await code(f.applier.stage(envChange(3, 'three'))), 'AGT_UNIT_NOT_RESTARTABLE')
  t.equal(await code(f.applier.stage(change({ revision: 3, files: { env: { set: { A: 'b' } } }, restart: 'never' }))), 'resolved', 'no restart planned: no precheck')
  t.equal(f.applier.staged()?.revision, 3)
  t.equal(await f.lock.holder(), undefined, 'the lock is released after each')
})

t.test('commitStaged refusals: nothing staged, another revision, lock held', async (t) => {
  const f = await fixture(t)
  t.equal(await code(f.applier.commitStaged(1)), 'AGT_NOT_STAGED')
  await f.applier.stage(envChange(2))
  const err = await f.applier.commitStaged(3).catch((e: unknown) => e as Error)
  t.match(err, { code: 'AGT_NOT_STAGED', statusCode: 409, message: /revision 3 is not staged on this node \(revision 2 is\)/ })
  t.equal(f.applier.staged()?.revision, 2, 'another revision asked: the staged one stays')
  await f.lock.acquire()
  t.equal(await code(f.applier.commitStaged(2)), 'AGT_CHANGE_CONFLICT')
  await f.lock.release()
  t.equal(f.applier.staged()?.revision, 2, 'a conflict does not consume it')
  t.same(f.store.writes, [])
  t.equal((await f.applier.commitStaged(2)).result, 'changed')
})

t.test('expiry (fake clock): an expired staged change is dropped and its commit refused', async (t) => {
  const clock = new FakeClock()
  const f = await fixture(t, { clock, stagedTtlMs: 60_000 })
  const s = await f.applier.stage(envChange(1))
  t.equal(s.expiresAt, clock.now() + 60_000)
  await clock.advance(59_999)
  t.equal(f.applier.staged()?.revision, 1, 'still there a millisecond before')
  await clock.advance(1)
  t.equal(f.applier.staged(), undefined, 'gone at expiresAt')
  t.equal(await code(f.applier.commitStaged(1)), 'AGT_NOT_STAGED')
  t.same(f.store.writes, [])
})

t.test('a new stage replaces the staged change', async (t) => {
  const f = await fixture(t)
  await f.applier.stage(envChange(1, 'one'))
  await f.applier.stage(envChange(2, 'two'))
  t.equal(f.applier.staged()?.revision, 2)
  t.equal(await code(f.applier.commitStaged(1)), 'AGT_NOT_STAGED')
  t.equal((await f.applier.commitStaged(2)).result, 'changed')
  t.match((await f.store.read(ENV_PATH)).content, /MINIO_KMS_TEST=two/)
})

t.test('discardStaged drops it and answers its revision; then undefined', async (t) => {
  const f = await fixture(t)
  t.equal(f.applier.discardStaged(), undefined)
  await f.applier.stage(envChange(1))
  t.equal(f.applier.discardStaged(), 1)
  t.equal(f.applier.discardStaged(), undefined)
  t.equal(await code(f.applier.commitStaged(1)), 'AGT_NOT_STAGED')
})

t.test('stale: a managed file edited since the stage → AGT_STAGED_STALE naming it, dropped, nothing written', async (t) => {
  const f = await fixture(t)
  await f.applier.stage(envChange(1))
  await f.store.write(CONFIG_PATH, `${CONFIG}# edited by hand\n`)
  const writes = f.store.writes.length
  const err = await f.applier.commitStaged(1).catch((e: unknown) => e as Error)
  t.match(err, { code: 'AGT_STAGED_STALE', statusCode: 409 })
  t.match(err.message, `${CONFIG_PATH} changed`, 'names the file, even one the change does not edit')
  t.equal(f.store.writes.length, writes, 'nothing written')
  t.equal(restarts(f.service.calls), 0)
  t.equal(await f.state.readLast(), undefined, 'no result recorded')
  t.equal(f.applier.staged(), undefined, 'dropped')
  t.equal(await code(f.applier.commitStaged(1)), 'AGT_NOT_STAGED')
})

t.test('stale: the mode of a managed file changed since the stage', async (t) => {
  const f = await fixture(t)
  await f.applier.stage(envChange(1))
  const cur = await f.store.read(ENV_PATH)
  await f.store.write(ENV_PATH, cur.content ?? '', { mode: 0o644, uid: 0, gid: 0 })
  const err = await f.applier.commitStaged(1).catch((e: unknown) => e as Error)
  t.match(err, { code: 'AGT_STAGED_STALE', message: /the mode or owner of \/etc\/default\/minkms changed/ })
})

t.test('stale: another revision applied since the stage, or a rollback', async (t) => {
  const f = await fixture(t)
  await f.applier.stage(envChange(5, 'five'))
  await f.applier.apply(envChange(1, 'one'))
  t.match(await f.applier.commitStaged(5).catch((e: unknown) => e as Error), { code: 'AGT_STAGED_STALE', message: /the applied revision is 1 \(was none\)/ })

  await f.applier.apply(envChange(2, 'two'))
  await f.applier.stage(envChange(3, 'three'))
  const rb = await f.applier.rollback()
  t.equal(rb.result, 'changed')
  const env = (await f.store.read(ENV_PATH)).content
  t.match(await f.applier.commitStaged(3).catch((e: unknown) => e as Error), { code: 'AGT_STAGED_STALE', message: /the applied revision is 1 \(was 2\)/ }, 'committed after a rollback: stale')
  t.equal((await f.store.read(ENV_PATH)).content, env, 'nothing written by the refused commit')
  t.equal((await f.state.readApplied())?.revision, 1)
})

t.test('secrets: the staged content is in no answer, status view or log line, and not on disk', async (t) => {
  const lines: string[] = []
  const log = { info: (o: object, m: string) => { lines.push(JSON.stringify(o) + m) }, warn: (o: object, m: string) => { lines.push(JSON.stringify(o) + m) }, error: (o: object, m: string) => { lines.push(JSON.stringify(o) + m) } }
  const f = await fixture(t, { log })
  const s = await f.applier.stage(hsmChange(1, { apiKey: API_KEY }))
  const view = f.applier.staged()
  t.ok(lines.some((l) => l.includes('staged')), 'the stage is logged')
  for (const [what, text] of [['stage answer', JSON.stringify(s)], ['staged view', JSON.stringify(view)], ['log', lines.join('\n')], ['state dir', (await tree(f.dir)).join('\n')]] as const) {
    t.notOk(text.includes(API_KEY), `${what}: no API key`)
  }
  t.ok(JSON.stringify(s.plan).includes('***'), 'the plan masks the secret as a plan does')
  f.applier.discardStaged()
  t.notOk(lines.join('\n').includes(API_KEY), 'nor when discarded')
})
