// Recovery removes the temporary files that a killed agent's writes left (beside the managed
// files and in the state directory), logs their names and nothing of their content, and never
// touches those of an apply that another live process is running.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ApplyLock } from '../../../../agent/apply/apply-lock.js'
import { ChangeApplier } from '../../../../agent/apply/change-applier.js'
import { FakeServiceManager } from '../../../../agent/os/fake-service-manager.js'
import { MemoryFileStore } from '../../../../agent/os/memory-file-store.js'
import { AgentStateStore } from '../../../../agent/state/agent-state.js'
import { SealedBox } from '../../../../agent/state/sealed-box.js'
import { systemClock } from '../../../../shared/clock.js'
import { atomicTempName } from '../../../../shared/fs/atomic-write.js'
import { API_KEY, CONFIG, CONFIG_PATH, ENV, ENV_PATH, ScriptedVerifier } from '../../../helpers/applier-fixture.js'

async function setup (stateDir: string) {
  const logged: Array<{ obj: object, msg: string }> = []
  const log = { info: () => {}, warn: (obj: object, msg: string) => { logged.push({ obj, msg }) }, error: () => {} }
  const store = new MemoryFileStore({ [CONFIG_PATH]: CONFIG, [ENV_PATH]: ENV })
  const state = new AgentStateStore(stateDir, SealedBox.withKey(randomBytes(32)))
  await state.init()
  const service = new FakeServiceManager()
  const applier = new ChangeApplier(
    { store, state, service, verifier: new ScriptedVerifier(service), clock: systemClock, log, lock: new ApplyLock(stateDir) },
    { files: { config: CONFIG_PATH, env: ENV_PATH }, fingerprintKey: randomBytes(32), keep: 3, verify: { deadlineMs: 1000, stableForMs: 0 } }
  )
  return { applier, store, state, logged }
}

t.test('recovery removes leftover temporary files and logs their names only', async (t) => {
  const dir = t.testdir({ backups: { 3: {} }, changes: {} })
  const f = await setup(dir)
  const config = `/etc/minkms/${atomicTempName('config.yaml')}`
  f.store.leftovers.add(config)
  f.store.leftovers.add('/srv/elsewhere/.config.yaml.keyroll-0123456789abcdef.tmp')
  await writeFile(join(dir, atomicTempName('pending.json')), JSON.stringify({ auth: API_KEY }))
  await writeFile(join(dir, 'backups', '3', atomicTempName('config.sealed')), 'sealed')
  await writeFile(join(dir, 'changes', atomicTempName('3.sealed')), 'sealed')
  t.equal(await f.applier.recover(), undefined, 'no interrupted apply')
  t.same([...f.store.leftovers], ['/srv/elsewhere/.config.yaml.keyroll-0123456789abcdef.tmp'], 'only those beside the managed files')
  t.same(await readdir(dir), ['backups', 'changes'], 'none left in the state directory (nor the apply lock)')
  t.same(await readdir(join(dir, 'backups', '3')), [])
  t.same(await readdir(join(dir, 'changes')), [])
  t.equal(f.logged.length, 1)
  t.match(f.logged[0]?.msg, /^removed 4 temporary files left by an interrupted write$/)
  t.equal((f.logged[0]?.obj as { removed: string[] }).removed.length, 4)
  t.ok((f.logged[0]?.obj as { removed: string[] }).removed.includes(config), 'by path')
  t.notOk(JSON.stringify(f.logged).includes(API_KEY.slice(-20)), 'nothing of their content')
  t.equal(await f.applier.recover(), undefined)
  t.equal(f.logged.length, 1, 'nothing left: nothing logged')
})

t.test('with an interrupted apply: removed under the lock of the recovery', async (t) => {
  const dir = t.testdir()
  const f = await setup(dir)
  const { sha256 } = await import('../../../../agent/state/agent-state.js')
  await f.state.writeBackup('1', 'env', ENV, { mode: 0o640, uid: 0, gid: 0 })
  await f.state.writePending({ txId: 't1', kind: 'apply', revision: 1, changeHash: 'h', fromRevision: 0, backupKey: '1', phase: 'writing', files: [{ name: 'env', path: ENV_PATH, oldSha: sha256(ENV), newSha: sha256('new') }], startedAt: 0 })
  f.store.leftovers.add(`/etc/default/${atomicTempName('minkms')}`)
  const r = await f.applier.recover({ deferRestart: true })
  t.equal(r?.result, 'rolled-back')
  t.same([...f.store.leftovers], [])
  t.match(f.logged.map((l) => l.msg), ['removed 1 temporary file left by an interrupted write'])
})

t.test('an apply running in another live process keeps its temporary files', async (t) => {
  const dir = t.testdir()
  const f = await setup(dir)
  // The lock of a live process (our parent: alive, and not us).
  await writeFile(join(dir, 'apply.lock'), String(process.ppid))
  const live = atomicTempName('pending.json')
  await writeFile(join(dir, live), '{}')
  f.store.leftovers.add(`/etc/minkms/${atomicTempName('config.yaml')}`)
  t.equal(await f.applier.recover(), undefined)
  t.same((await readdir(dir)).sort(), [live, 'apply.lock', 'backups'].sort(), 'its temporary file stays')
  t.equal(f.store.leftovers.size, 1)
  t.same(f.logged, [])
})

t.test('records of a revision whose commit was killed before applied.json: removed, desired reset, said so', async (t) => {
  const dir = t.testdir()
  const f = await setup(dir)
  await f.state.writeChange(1, { revision: 1 })
  await f.state.writeApplied({ revision: 1, changeHash: 'h1', previous: [], files: {}, at: 0 })
  // A commit without a transaction (the files were already right) killed after the stored change
  // and a desired record of an older agent, which wrote desired.json before applied.json.
  await f.state.writeChange(2, { revision: 2 })
  await writeFile(join(dir, 'desired.json'), JSON.stringify({ revision: 2, changeHash: 'h2', acceptedAt: 0 }))
  t.equal(await f.state.readDesired(), undefined, 'a desired record that applied.json did not commit is ignored')
  t.equal(await f.applier.recover(), undefined, 'no interrupted apply')
  t.equal((await f.state.readDesired())?.record.revision, 1, 'desired reset to the committed revision')
  t.same(await readdir(join(dir, 'changes')), ['1.sealed'], 'the uncommitted change is gone')
  t.same(f.logged.map((l) => l.msg), ['removed 1 record of uncommitted revisions (changes/2.sealed); desired revision 2 was never committed: reset to committed revision 1; the node stays on committed revision 1'])
  t.equal(await f.applier.recover(), undefined)
  t.equal(f.logged.length, 1, 'nothing left: nothing logged')
})
