// The SQLite RolloutStore: the whole contract (store-conformance.ts), and what only a file shows:
// everything is there after a reopen, the file and its WAL are private, durability settings hold,
// two connections on one file keep the rules, and no secret reaches the file's bytes.
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { randomBytes, createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { coordinatorBoxWithKey, openCoordinatorBox } from '../../../../coordinator/store/coordinator-sealing.js'
import { STORE_FILE } from '../../../../coordinator/store/sqlite-db.js'
import { SqliteRolloutStore } from '../../../../coordinator/store/sqlite-rollout-store.js'
import { verifyAuditChain } from '../../../../coordinator/audit/audit-chain.js'
import { rollout, storeConformance } from './store-conformance.js'

function openIn (t: Test, dir: string): SqliteRolloutStore {
  const s = SqliteRolloutStore.inStateDir(dir)
  t.teardown(() => s.close())
  return s
}

storeConformance(t, async (t) => openIn(t, t.testdir({})))

t.test('a reopened file holds everything', async t => {
  const dir = t.testdir({})
  const a = openIn(t, dir)
  const r = rollout('r1', 'c1', 'running', 1000)
  await a.createRollout({ rollout: r, sealedChange: 'sealed-bytes' })
  await a.appendEvent('r1', { at: 1, type: 'step', node: 'node1', message: 'applying', data: { state: 'applying' } })
  await a.appendEvent('r1', { at: 2, type: 'verdict', node: 'node1', message: 'ok' })
  await a.appendAudit({ at: 3, actor: 'alice', action: 'rollout.create', target: 'r1', planHash: r.planHash, detail: { cluster: 'c1' } })
  await a.putToken({ name: 'ops', role: 'operator', hash: 'f'.repeat(64), createdAt: 4 })
  await a.putSlot({ id: 's1', cluster: 'c1', node: 'node3', revision: 7, grantedAt: 5, expiresAt: 5000 })
  const before = { r: await a.getRollout('r1'), ev: await a.events('r1'), au: await a.audit(), tok: await a.listTokens(), sl: await a.openSlots('c1', 6) }
  await a.close()

  const b = openIn(t, dir)
  t.same({ r: await b.getRollout('r1'), ev: await b.events('r1'), au: await b.audit(), tok: await b.listTokens(), sl: await b.openSlots('c1', 6) }, before, 'the same after reopening')
  t.same((await b.activeRollouts()).map(x => x.rollout.id), ['r1'], 'the active rollout resumes')
  t.equal((await b.appendEvent('r1', { at: 7, type: 'info', message: 'resumed' })).index, 2, 'event indexes continue')
  const next = await b.appendAudit({ at: 8, actor: 'system', action: 'rollout.resume', target: 'r1', detail: {} })
  t.equal(next.seq, 2, 'the audit chain continues')
  t.ok(verifyAuditChain(await b.audit()).ok)
  await t.rejects(b.createRollout({ rollout: rollout('r2', 'c1', 'pending', 9), sealedChange: 'x' }), { code: 'CRD_ROLLOUT_CONFLICT' }, 'the active rollout still holds its cluster')
})

t.test('the file is private and durable settings hold', async t => {
  const dir = join(t.testdir({}), 'state')
  const s = openIn(t, dir)
  await s.createRollout({ rollout: rollout('r1', 'c1', 'running', 1000), sealedChange: 'x' })
  t.equal(statSync(dir).mode & 0o777, 0o700, 'a state dir it creates is 0700')
  for (const f of [STORE_FILE, `${STORE_FILE}-wal`, `${STORE_FILE}-shm`]) {
    const p = join(dir, f)
    t.ok(existsSync(p), `${f} exists while open`)
    t.equal(statSync(p).mode & 0o777, 0o600, `${f} is 0600`)
  }
  const probe = new Database(join(dir, STORE_FILE), { readonly: true })
  t.teardown(() => probe.close())
  t.equal(probe.pragma('journal_mode', { simple: true }), 'wal', 'WAL mode is in the file')
})

t.test('a looser existing file is tightened to 0600', async t => {
  const dir = t.testdir({})
  const a = openIn(t, dir)
  await a.close()
  const { chmodSync } = await import('node:fs')
  chmodSync(join(dir, STORE_FILE), 0o644)
  openIn(t, dir)
  t.equal(statSync(join(dir, STORE_FILE)).mode & 0o777, 0o600)
})

t.test('connections see synchronous=FULL and foreign keys', async t => {
  const s = openIn(t, t.testdir({}))
  // The pragmas are per connection: read them through a second connection opened the same way.
  const db = new Database(s.path)
  t.teardown(() => db.close())
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  const { openStoreDb } = await import('../../../../coordinator/store/sqlite-db.js')
  const same = openStoreDb(s.path)
  t.teardown(() => same.close())
  t.equal(same.pragma('synchronous', { simple: true }), 2, 'synchronous = FULL (2)')
  t.equal(same.pragma('foreign_keys', { simple: true }), 1, 'foreign keys on')
})

t.test('two stores on one file keep one active rollout per cluster and gapless indexes', async t => {
  const dir = t.testdir({})
  const a = openIn(t, dir)
  const b = openIn(t, dir)
  await a.createRollout({ rollout: rollout('r1', 'c1', 'running', 1000), sealedChange: 'x' })
  await t.rejects(b.createRollout({ rollout: rollout('r2', 'c1', 'pending', 2000), sealedChange: 'x' }), { code: 'CRD_ROLLOUT_CONFLICT' })
  const got = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).appendEvent('r1', { at: i, type: 'info', message: `m${i}` })))
  t.same(got.map(e => e.index).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i))
  for (let i = 0; i < 6; i++) await (i % 2 === 0 ? a : b).appendAudit({ at: i, actor: 'x', action: 'y', target: 'z', detail: {} })
  t.ok(verifyAuditChain(await a.audit()).ok, 'one chain across both writers')
})

t.test('the partial unique index refuses a second active rollout even past the code', async t => {
  const s = openIn(t, t.testdir({}))
  await s.createRollout({ rollout: rollout('r1', 'c1', 'running', 1000), sealedChange: 'x' })
  const db = new Database(s.path)
  t.teardown(() => db.close())
  const insert = db.prepare("INSERT INTO rollouts (id, cluster, state, created_at, view, sealed_change) VALUES (?, 'c1', ?, 1, '{}', 'x')")
  t.throws(() => insert.run('r2', 'paused'), { code: 'SQLITE_CONSTRAINT_UNIQUE' })
  t.doesNotThrow(() => insert.run('r3', 'failed'), 'a terminal one is fine')
  await s.appendAudit({ at: 1, actor: 'alice', action: 'rollout.create', target: 'r1', detail: {} })
  t.throws(() => db.prepare('DELETE FROM audit').run(), /append-only/, 'the audit table refuses deletes')
  t.throws(() => db.prepare("UPDATE audit SET actor = 'mallory'").run(), /append-only/, 'and updates')
})

t.test('no secret reaches the file: sealed change, token secret', async t => {
  const dir = t.testdir({})
  const box = await openCoordinatorBox(dir)
  t.equal(statSync(join(dir, 'coordinator.key')).mode & 0o777, 0o600, 'coordinator.key is 0600')
  const apiKey = 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw'
  const hsmKey = 'hsm:aes256:PuKzChdhTmMcYqfbB+CpR7g2aRHbBO7uaMXdqCJmW40='
  const change = JSON.stringify({ revision: 7, files: { env: { set: { MINIO_KMS_API_KEY: apiKey, MINIO_KMS_HSM_KEY: hsmKey } } } })
  const tokenSecret = `krt_${randomBytes(24).toString('base64url')}`
  const tokenHash = createHash('sha256').update(tokenSecret).digest('hex')

  const s = openIn(t, dir)
  const sealedChange = box.sealText(change)
  await s.createRollout({ rollout: rollout('rollout-marker-1', 'c1', 'running', 1000), sealedChange })
  await s.appendEvent('rollout-marker-1', { at: 1, type: 'info', message: 'event-marker-2' })
  await s.appendAudit({ at: 2, actor: 'alice', action: 'token.create', target: 'ops', detail: { role: 'operator' } })
  await s.putToken({ name: 'ops', role: 'operator', hash: tokenHash, createdAt: 3 })
  t.equal(box.unsealText((await s.getRollout('rollout-marker-1'))?.sealedChange ?? ''), change, 'the change reads back through the box')
  t.equal((await s.tokenByHash(tokenHash))?.name, 'ops')

  const bytes = (): Buffer => Buffer.concat([STORE_FILE, `${STORE_FILE}-wal`].map(f => join(dir, f)).filter(existsSync).map(p => readFileSync(p)))
  const check = (when: string): void => {
    const b = bytes()
    t.ok(b.includes('rollout-marker-1') && b.includes('event-marker-2'), `${when}: the grep reads the stored data`)
    t.ok(b.includes(tokenHash), `${when}: the token's hash is stored`)
    for (const secret of [apiKey, hsmKey, tokenSecret, 'xZnpcYtPdVMNLBBRaUO5', 'PuKzChdhTmMcYqfbB']) {
      t.notOk(b.includes(secret), `${when}: ${secret.slice(0, 6)}… not in the file bytes`)
      t.notOk(b.includes(Buffer.from(secret).toString('base64')), `${when}: nor its base64`)
    }
  }
  check('open (WAL)')
  await s.close()
  check('closed (checkpointed)')

  const other = coordinatorBoxWithKey(randomBytes(32))
  t.throws(() => other.unsealText(sealedChange, 'the change of rollout-marker-1'), { code: 'CRD_STATE_SEALED', statusCode: 500 }, 'another key cannot read it')
})
