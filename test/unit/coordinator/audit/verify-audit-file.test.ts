// `audit verify` on a store file: read-only, and it finds tampering done directly in the file.
import t from 'tap'
import Database from 'better-sqlite3'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditFile } from '../../../../coordinator/audit/verify-audit-file.js'
import { STORE_FILE } from '../../../../coordinator/store/sqlite-db.js'
import { SqliteRolloutStore } from '../../../../coordinator/store/sqlite-rollout-store.js'

async function storeWith (dir: string, n: number): Promise<string> {
  const s = SqliteRolloutStore.inStateDir(dir)
  for (let i = 0; i < n; i++) await s.appendAudit({ at: 1000 + i, actor: 'alice', action: 'rollout.create', target: `r${i}`, detail: { i } })
  await s.close()
  return join(dir, STORE_FILE)
}

/** Edits the file as someone with write access would: drops the append-only triggers first. */
function tamper (path: string, sql: string): void {
  const db = new Database(path)
  try {
    db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;')
    db.exec(sql)
  } finally {
    db.close()
  }
}

t.test('an untouched log verifies, without changing the file', async t => {
  const path = await storeWith(t.testdir({}), 4)
  const before = readFileSync(path)
  const v = await verifyAuditFile(path)
  t.match(v, { ok: true, entries: 4, head: /^[0-9a-f]{64}$/ })
  t.notOk('firstBad' in v)
  t.same(readFileSync(path), before, 'the file is byte-identical')
})

t.test('it reads a store that a coordinator has open', async t => {
  const dir = t.testdir({})
  const s = SqliteRolloutStore.inStateDir(dir)
  t.teardown(() => s.close())
  await s.appendAudit({ at: 1, actor: 'alice', action: 'token.create', target: 'ops', detail: {} })
  t.match(await verifyAuditFile(s.path), { ok: true, entries: 1 }, 'sees what is only in the WAL so far')
})

t.test('an edited entry', async t => {
  const path = await storeWith(t.testdir({}), 4)
  tamper(path, "UPDATE audit SET actor = 'mallory' WHERE seq = 2")
  t.match(await verifyAuditFile(path), { ok: false, entries: 4, firstBad: { seq: 2, reason: /edited/ } })
})

t.test('a removed entry', async t => {
  const path = await storeWith(t.testdir({}), 4)
  tamper(path, 'DELETE FROM audit WHERE seq = 3')
  t.match(await verifyAuditFile(path), { ok: false, entries: 3, firstBad: { seq: 4, reason: /missing/ } })
})

t.test('the last entries removed: the head changes', async t => {
  const dir = t.testdir({})
  const path = await storeWith(dir, 4)
  const { head } = await verifyAuditFile(path)
  tamper(path, 'DELETE FROM audit WHERE seq = 4')
  const v = await verifyAuditFile(path)
  t.equal(v.ok, true, 'a chain cut at its end still chains')
  t.not(v.head, head, 'but its head is not the one written down')
})

t.test('a missing file', async t => {
  await t.rejects(verifyAuditFile(join(t.testdir({}), STORE_FILE)), { code: 'CRD_STORE_UNREADABLE' })
})
