import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ApplyEvent } from '../../../../agent/core.js'
import { parseChangeSpec } from '../../../../shared/change/parse-change-spec.js'
import { API_KEY, buildApplier, change, CONFIG, CONFIG_PATH, ENV, ENV_PATH, HSM_KEY, hsmChange, hsmSpec } from '../../../helpers/applier-fixture.js'

const restarts = (calls: string[]): number => calls.filter((c) => c === 'restart').length

t.test('the HSM change: section added, one restart, committed; again: ok, nothing touched', async (t) => {
  const f = await buildApplier(t.testdir())
  const events: ApplyEvent[] = []
  const r = await f.applier.apply(hsmChange(1), { onEvent: (e) => events.push(e) })
  t.equal(r.result, 'changed')
  t.equal(r.restarted, true)
  t.equal(restarts(f.service.calls), 1, 'one restart')
  const config = (await f.store.read(CONFIG_PATH)).content ?? ''
  t.ok(config.startsWith(CONFIG), 'the old file is a prefix: only lines were added')
  t.match(config, /hsm:\n {2}minio:\n {4}minkms:/)
  t.equal((await f.store.read(ENV_PATH)).content, ENV, 'env untouched')
  t.equal((await f.state.readApplied())?.revision, 1)
  t.same(events.map((e) => `${e.step}:${e.status}`), ['lock:done', 'plan:started', 'plan:done', 'validate:done', 'backup:started', 'backup:done',
    'write:started', 'write:done', 'restart:started', 'restart:done', 'verify:done', 'commit:started', 'commit:done'])
  t.equal(await f.state.readPending(), undefined, 'no pending record after commit')

  const writes = f.store.writes.length
  const again = await f.applier.apply(hsmChange(1))
  t.equal(again.result, 'ok')
  t.equal(again.restarted, false)
  t.equal(f.store.writes.length, writes, 'no write')
  t.equal(restarts(f.service.calls), 1, 'no restart')
})

t.test('a failed verdict: files restored byte-identical, restarted on them, rolled-back', async (t) => {
  const f = await buildApplier(t.testdir())
  f.verifier.script.push(false, true)
  const r = await f.applier.apply(hsmChange(1, { unsetHsmKey: true }))
  t.equal(r.result, 'rolled-back')
  t.equal(r.failedStep, 'verify')
  t.equal(r.verdict?.ok, false)
  t.equal(r.rollbackVerdict?.ok, true)
  t.equal((await f.store.read(CONFIG_PATH)).content, CONFIG)
  t.equal((await f.store.read(ENV_PATH)).content, ENV)
  t.equal(restarts(f.service.calls), 2, 'restarted on the change, then on the restored files')
  t.equal(await f.state.readApplied(), undefined, 'nothing committed')
  t.equal(await f.state.readPending(), undefined)
})

t.test('the restore does not start either: rollback-failed, pending kept for the next start', async (t) => {
  const f = await buildApplier(t.testdir())
  f.verifier.script.push(false, false)
  const r = await f.applier.apply(hsmChange(1))
  t.equal(r.result, 'rollback-failed')
  t.match(r.message, /rollback failed at step verify-restore: the restored files did not start cleanly either: .*run `keyroll-agent recover`/, 'names the rollback step and what to run')
  t.equal((await f.store.read(CONFIG_PATH)).content, CONFIG, 'the files are restored all the same')
  t.not(await f.state.readPending(), undefined)
})

t.test('the restart on the restored files is refused: rollback-failed naming that step', async (t) => {
  const f = await buildApplier(t.testdir())
  f.verifier.script.push(false)
  const restart = f.service.restart.bind(f.service)
  let n = 0
  f.service.restart = async (o) => { if (++n === 2) throw new Error('Job for minkms.service canceled'); await restart(o) }
  const r = await f.applier.apply(hsmChange(1))
  t.equal(r.result, 'rollback-failed')
  t.match(r.message, /rollback failed at step restart-restore: the files are restored, but restarting on them failed: Job for minkms\.service canceled; .*keyroll-agent recover/)
  t.equal((await f.store.read(CONFIG_PATH)).content, CONFIG)
})

t.test('a write that fails: restored, no restart', async (t) => {
  const f = await buildApplier(t.testdir())
  f.store.failWrite.add(ENV_PATH)
  const r = await f.applier.apply(hsmChange(1, { unsetHsmKey: true }))
  t.equal(r.result, 'rolled-back')
  t.equal(r.failedStep, 'write')
  t.equal(restarts(f.service.calls), 0)
  t.equal((await f.store.read(CONFIG_PATH)).content, CONFIG)
  t.equal((await f.store.read(ENV_PATH)).content, ENV)
})

t.test('a change that would produce an invalid file touches nothing', async (t) => {
  const f = await buildApplier(t.testdir())
  await t.rejects(f.applier.apply(change({ revision: 1, files: { config: { set: { 'hsm.minio.minkms': { server: [], enclave: 'e', key: 'k', auth: { key: 'k1:nope' } } } } } })),
    { statusCode: 400, code: 'AGT_INVALID_RESULT' }, 'an invalid hsm section')
  const spec = 'revision: 1\nfiles:\n  config:\n    set:\n      hsm.minio.minkms:\n        server: [a:1]\n        enclave: e\n        key: k\n        auth: { key: !secret k1:nope }\n'
  await t.rejects(f.applier.apply(parseChangeSpec(spec, 'yaml')), {
    code: 'AGT_INVALID_RESULT',
    problems: [{ path: 'files.config.set.hsm.minio.minkms.auth.key', line: 9 }]
  }, "the problem names the spec's field and line, not the would-be file's")
  t.equal(f.store.writes.length, 0)
  t.same(f.service.calls, [])
})

t.test("the change's verify window is what the verifier gets", async (t) => {
  const f = await buildApplier(t.testdir())
  const { verify: _v, ...silent } = hsmSpec(1)
  await f.applier.apply(change(silent))
  t.equal(f.verifier.lastOpts?.deadlineMs, 12_000, 'deadline from the agent config')
  t.equal(f.verifier.lastOpts?.stableForMs, 250, 'stability window from the agent config')
  await f.applier.apply(change({ ...silent, revision: 2, restart: 'always', verify: { deadline: '3s' } }))
  t.equal(f.verifier.lastOpts?.deadlineMs, 3000, "the change's own value wins")
  t.equal(f.verifier.lastOpts?.stableForMs, 250, 'and the rest comes from the agent config')
})

t.test('check mode writes nothing', async (t) => {
  const f = await buildApplier(t.testdir())
  const r = await f.applier.apply(hsmChange(1), { check: true })
  t.equal(r.result, 'changed')
  t.match(r.plan.files[0]?.diff, /\+hsm:/)
  t.notMatch(r.plan.files[0]?.diff, API_KEY, 'the diff masks the API key')
  t.equal(f.store.writes.length, 0)
})

t.test('one apply at a time; revisions only move forward', async (t) => {
  const f = await buildApplier(t.testdir())
  const first = f.applier.apply(hsmChange(1))
  await t.rejects(f.applier.apply(hsmChange(2, { unsetHsmKey: true })), { statusCode: 409, code: 'AGT_CHANGE_CONFLICT' })
  t.equal((await first).result, 'changed')
  await t.rejects(f.applier.apply(hsmChange(1, { unsetHsmKey: true })), { statusCode: 409, code: 'AGT_REVISION_CONFLICT' })
  t.equal((await f.applier.apply(hsmChange(2, { unsetHsmKey: true }))).result, 'changed')
  await t.rejects(f.applier.apply(hsmChange(1)), { statusCode: 409, code: 'AGT_STALE_REVISION' })
})

t.test('rollback returns to the previous revision', async (t) => {
  const f = await buildApplier(t.testdir())
  await t.rejects(f.applier.rollback(), { code: 'AGT_NOTHING_TO_ROLL_BACK' })
  await f.applier.apply(hsmChange(1))
  const afterOne = (await f.store.read(CONFIG_PATH)).content
  await f.applier.apply(hsmChange(2, { unsetHsmKey: true }))
  t.notMatch((await f.store.read(ENV_PATH)).content, 'MINIO_KMS_HSM_KEY')
  const r = await f.applier.rollback()
  t.equal(r.result, 'changed')
  t.equal(r.revision, 1)
  t.equal((await f.store.read(ENV_PATH)).content, ENV, 'env back')
  t.equal((await f.store.read(CONFIG_PATH)).content, afterOne, 'config as after revision 1')
  t.equal((await f.state.readApplied())?.revision, 1)
  t.equal((await f.state.readDesired())?.record.revision, 1, 'desired follows')
})

t.test('a re-apply of the committed revision after drift keeps its backup: a rollback still restores the files before it', async (t) => {
  const f = await buildApplier(t.testdir())
  await f.applier.apply(hsmChange(1))
  const afterOne = (await f.store.read(CONFIG_PATH)).content
  await f.applier.apply(hsmChange(2, { unsetHsmKey: true }))
  const afterTwo = (await f.store.read(ENV_PATH)).content ?? ''
  // Drift: someone puts the key back by hand and adds a line.
  const drifted = `${ENV}EDITED_BY_HAND=1\n`
  await f.store.write(ENV_PATH, drifted)
  const again = await f.applier.apply(hsmChange(2, { unsetHsmKey: true }))
  t.equal(again.result, 'changed', 'the drift is undone by the re-apply')
  t.notMatch((await f.store.read(ENV_PATH)).content, 'MINIO_KMS_HSM_KEY')
  t.match((await f.store.read(ENV_PATH)).content, 'EDITED_BY_HAND=1', 'the re-apply changes only what the change says')
  t.same(await f.state.backupNames('reapply-2'), [], "the re-apply's own set is dropped once committed")
  const r = await f.applier.rollback()
  t.equal(r.revision, 1)
  t.equal((await f.store.read(ENV_PATH)).content, ENV, 'env as before revision 2, not as the drift left it')
  t.equal((await f.store.read(CONFIG_PATH)).content, afterOne, 'config as after revision 1')
  t.not(afterTwo, ENV)
})

t.test('recovery undoes an interrupted apply', async (t) => {
  const dir = t.testdir()
  const f = await buildApplier(dir)
  // Simulate a kill after the write: files written, pending left, no commit.
  await f.state.writeBackup('1', 'env', ENV, { mode: 0o640, uid: 0, gid: 0 })
  const { sha256 } = await import('../../../../agent/state/agent-state.js')
  const newEnv = ENV.replace(/^MINIO_KMS_HSM_KEY=.*\n/m, '')
  await f.store.write(ENV_PATH, newEnv)
  await f.state.writePending({ txId: 't1', kind: 'apply', revision: 1, changeHash: 'h', fromRevision: 0, backupKey: '1', phase: 'restarting', files: [{ name: 'env', path: ENV_PATH, oldSha: sha256(ENV), newSha: sha256(newEnv) }], startedAt: 0 })
  const r = await f.applier.recover()
  t.equal(r?.result, 'rolled-back')
  t.equal(r?.revision, 1, 'the result names the interrupted revision, as a failed apply of it would')
  t.match(await f.state.readLast(), { revision: 1, result: 'rolled-back' }, 'so does last.json: a caller asking by revision learns that 1 was undone')
  t.equal((await f.state.readApplied())?.revision, undefined, 'the node is on no revision, as before the apply')
  t.equal((await f.store.read(ENV_PATH)).content, ENV)
  t.equal(restarts(f.service.calls), 1, 'restarted: the unit may have run the new file')
  t.equal(await f.state.readPending(), undefined)
  t.equal(await f.applier.recover(), undefined, 'nothing left to recover')
})

/** A kill after the restart was issued: env written, pending record in phase `restarting`. */
async function interruptedAfterRestart (f: Awaited<ReturnType<typeof buildApplier>>): Promise<string> {
  await f.state.writeBackup('1', 'env', ENV, { mode: 0o640, uid: 0, gid: 0 })
  const { sha256 } = await import('../../../../agent/state/agent-state.js')
  const newEnv = ENV.replace(/^MINIO_KMS_HSM_KEY=.*\n/m, '')
  await f.store.write(ENV_PATH, newEnv)
  await f.state.writePending({ txId: 't1', kind: 'apply', revision: 1, changeHash: 'h', fromRevision: 0, backupKey: '1', phase: 'restarting', files: [{ name: 'env', path: ENV_PATH, oldSha: sha256(ENV), newSha: sha256(newEnv) }], startedAt: 0 })
  return newEnv
}

t.test('ExecStartPre recovery (deferRestart) never restarts; the daemon restarts a running unit', async (t) => {
  const f = await buildApplier(t.testdir())
  await interruptedAfterRestart(f)
  const pre = await f.applier.recover({ deferRestart: true })
  t.equal(pre?.result, 'rolled-back')
  t.equal((await f.store.read(ENV_PATH)).content, ENV, 'files put back')
  t.equal(restarts(f.service.calls), 0, 'no restart from ExecStartPre (minkms waits for it: deadlock)')
  t.match(pre?.message, /is active and may still run the interrupted content: the agent daemon restarts and verifies it/)
  t.equal((await f.state.readPending())?.phase, 'restored', 'left for the daemon')

  const daemon = await f.applier.recover()
  t.equal(daemon?.result, 'rolled-back')
  t.equal(restarts(f.service.calls), 1, 'the daemon restarted the unit on the restored files')
  t.equal(daemon?.rollbackVerdict?.ok, true, 'and verified it')
  t.match(daemon?.message, /files put back at start, minkms.service restarted on them/)
  t.equal(await f.state.readPending(), undefined)
})

t.test('ExecStartPre recovery at boot: the unit is inactive, it starts on the restored files', async (t) => {
  const f = await buildApplier(t.testdir())
  await interruptedAfterRestart(f)
  f.service.set({ activeState: 'inactive', subState: 'dead' })
  const pre = await f.applier.recover({ deferRestart: true })
  t.equal(pre?.result, 'rolled-back')
  t.match(pre?.message, /minkms.service is not running and starts on them/)
  t.equal((await f.store.read(ENV_PATH)).content, ENV)
  t.equal(restarts(f.service.calls), 0)
  t.equal(await f.state.readPending(), undefined, 'nothing left for the daemon')
  t.equal(await f.applier.recover(), undefined)
})

t.test('ExecStartPre recovery of a kill before the restart: files back, nothing to restart', async (t) => {
  const f = await buildApplier(t.testdir())
  await interruptedAfterRestart(f)
  const p = await f.state.readPending()
  await f.state.writePending({ ...p!, phase: 'writing' })
  const pre = await f.applier.recover({ deferRestart: true })
  t.equal(pre?.result, 'rolled-back')
  t.equal((await f.store.read(ENV_PATH)).content, ENV)
  t.equal(restarts(f.service.calls), 0)
  t.equal(await f.state.readPending(), undefined)
})

t.test('recovery finishes an apply that was committed before the kill', async (t) => {
  const f = await buildApplier(t.testdir())
  await f.applier.apply(hsmChange(1))
  const applied = await f.state.readApplied()
  t.ok(applied?.txId, 'the commit records its transaction')
  const config = (await f.store.read(CONFIG_PATH)).content
  await f.state.writePending({ txId: applied!.txId!, kind: 'apply', revision: 1, changeHash: applied!.changeHash, fromRevision: 0, backupKey: '1', phase: 'restarting', files: [], startedAt: 0 })
  const r = await f.applier.recover()
  t.equal(r?.result, 'changed', 'finished, not undone')
  t.equal((await f.store.read(CONFIG_PATH)).content, config, 'files kept')
  t.equal((await f.state.readApplied())?.revision, 1)
  t.equal(await f.state.readPending(), undefined)
})

t.test('boot convergence re-applies the desired revision after the files were reverted', async (t) => {
  const f = await buildApplier(t.testdir())
  t.same(await f.applier.converge(), { state: 'none' })
  await f.applier.apply(hsmChange(1))
  t.same(await f.applier.converge(), { state: 'in-sync' })
  await f.store.write(CONFIG_PATH, CONFIG) // e.g. a config restored from an old image
  const slots: number[] = []
  const released: string[] = []
  const r = await f.applier.converge(async (rev) => { slots.push(rev); return async (res) => { released.push(res.result) } })
  t.equal(r.state, 'applied')
  t.same(slots, [1], 'asked for a go-ahead for revision 1')
  t.same(released, ['changed'], 'released the slot with the result')
  t.match((await f.store.read(CONFIG_PATH)).content, /minkms:/)
})

t.test('no secret in the state directory in clear', async (t) => {
  const dir = t.testdir()
  const f = await buildApplier(dir)
  await f.applier.apply(hsmChange(1))
  await f.applier.apply(hsmChange(2, { unsetHsmKey: true }))
  const all: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else all.push((await readFile(p)).toString('latin1'))
    }
  }
  await walk(dir)
  t.ok(all.length >= 5, 'state files were written')
  for (const s of [HSM_KEY, HSM_KEY.slice(11), API_KEY, API_KEY.slice(3)]) t.notOk(all.some((c) => c.includes(s)), `no ${s.slice(0, 6)}… in clear`)
})
