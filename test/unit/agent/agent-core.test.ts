// agent/agent-core.ts over the real applier and state (fakes at the OS ports): status and
// readiness, including an apply recorded on disk by another process or left by a killed one.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RealAgentCore } from '../../../agent/agent-core.js'
import { createAgentMetrics } from '../../../agent/metrics.js'
import { FakeJournal } from '../../../agent/os/fake-journal.js'
import { buildApplier, hsmChange, silentLog } from '../../helpers/applier-fixture.js'

async function core (dir: string): Promise<{ core: RealAgentCore } & Awaited<ReturnType<typeof buildApplier>>> {
  const f = await buildApplier(dir)
  const c = new RealAgentCore({
    node: 'node1',
    applier: f.applier,
    service: f.service,
    journal: new FakeJournal(),
    state: f.state,
    metrics: createAgentMetrics({ files: ['config', 'env'] }),
    log: silentLog
  })
  return { core: c, ...f }
}

/** What a killed agent leaves: a write-ahead record, no commit. */
async function pendingApply (f: Awaited<ReturnType<typeof buildApplier>>, revision: number): Promise<void> {
  await f.state.writePending({ txId: 't', kind: 'apply', revision, changeHash: 'h', fromRevision: 1, backupKey: String(revision), phase: 'restarting', files: [], startedAt: Date.UTC(2026, 11, 1, 6, 0, 0) })
}

t.test('status after an apply: revisions, last result, every check ok', async t => {
  const { core: c, applier } = await core(t.testdir())
  await applier.apply(hsmChange(1))
  const s = await c.status()
  t.match(s, { node: 'node1', appliedRevision: 1, desiredRevision: 1, applying: false, lastResult: { result: 'changed', revision: 1 } })
  t.match(s.checks, { config: { ok: true, message: /^config loaded/ }, unit: { ok: true }, journal: { ok: true } })
  t.equal((await c.ready()).ok, true)
})

t.test('an apply left by a killed agent: reported, not ready, nothing undone', async t => {
  const dir = t.testdir()
  const f = await core(dir)
  await f.applier.apply(hsmChange(1))
  await pendingApply(f, 2)
  const s = await f.core.status()
  t.equal(s.applying, false)
  t.same(s.checks.config, { ok: false, message: 'an apply of revision 2 (started 2026-12-01T06:00:00.000Z) was interrupted: the agent finishes or undoes it when it starts (keyroll-agent recover)' })
  t.equal((await f.core.ready()).ok, false, 'not ready while an interrupted change is on disk')
  t.ok(await f.state.readPending(), 'status undid nothing')
  t.equal(f.service.calls.filter((c) => c === 'restart').length, 1, 'and restarted nothing')
})

t.test('an apply running in another process (the daemon, while the CLI asks): applying, still ready', async t => {
  const dir = t.testdir()
  const f = await core(dir)
  await pendingApply(f, 2)
  // The daemon's lock: held by a live process that is not this one (our parent).
  await writeFile(join(dir, 'apply.lock'), String(process.ppid))
  const s = await f.core.status()
  t.equal(s.applying, true)
  t.match(s.checks.config, { ok: true, message: new RegExp(`an apply of revision 2 .* is running in process ${process.ppid}$`) })
  t.equal((await f.core.ready()).ok, true)
})

t.test('recover(): nothing interrupted is "none", on the applied revision', async t => {
  const f = await core(t.testdir())
  await f.applier.apply(hsmChange(1))
  t.same(await f.core.recover(), { action: 'none', revision: 1, message: 'no interrupted change' })
})

t.test('startDaemon: converges without a coordinator and says so in the config check; close() ends it', async t => {
  const f = await core(t.testdir())
  let asked = 0
  await f.core.startDaemon(async () => { asked++; return undefined })
  t.equal(asked, 1, 'the go-ahead source is asked once')
  t.match((await f.core.status()).checks.config.message, /^config loaded; convergence (running \(no coordinator configured\)|none)$/)
  await f.core.close()
  t.match((await f.core.status()).checks.config.message, /convergence none$/, 'nothing desired yet: nothing to converge')
})
