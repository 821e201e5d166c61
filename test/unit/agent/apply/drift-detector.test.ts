// The drift detector over fakes: a hand edit is drift, the agent's own announced write is not,
// putting the content back clears it, and every change of the list is reported once.
import t, { type Test } from 'tap'
import { DriftDetector } from '../../../../agent/apply/drift-detector.js'
import type { DriftEntry } from '../../../../agent/core.js'
import { FakeFileWatcher } from '../../../../agent/os/fake-file-watcher.js'
import { MemoryFileStore } from '../../../../agent/os/memory-file-store.js'
import { contentSha } from '../../../../agent/state/agent-state.js'
import { silentLog } from '../../../helpers/applier-fixture.js'
import { FakeClock } from '../../../helpers/fake-clock.js'

const FILES = { config: '/etc/minkms/config.yaml', env: '/etc/default/minkms' }

async function detector (t: Test) {
  const store = new MemoryFileStore({ [FILES.config]: 'version: v1\n', [FILES.env]: 'A=1\n' })
  const watcher = new FakeFileWatcher()
  const reports: DriftEntry[][] = []
  const clock = new FakeClock(1000)
  const d = new DriftDetector({ watcher, store, clock, log: silentLog, fingerprintKey: new Uint8Array(32), onChange: (e) => reports.push(e) }, FILES)
  t.teardown(async () => { await d.close() })
  return { d, store, watcher, reports, tick: async (ms: number) => { await clock.advance(ms) } }
}

/** Waits until `n` reports arrived (the detector checks asynchronously after a watcher event). */
async function reported (f: { reports: unknown[] }, n: number): Promise<void> {
  const deadline = Date.now() + 5000
  while (f.reports.length < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} drift reports, got ${f.reports.length}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

t.test('a hand edit is drift; putting the content back clears it', async (t) => {
  const f = await detector(t)
  await f.d.start({})
  t.same(f.d.entries(), [], 'no commit yet: the current contents are adopted')
  t.same([...f.watcher.paths].sort(), [FILES.env, FILES.config].sort())
  await f.tick(5)
  await f.store.write(FILES.env, 'A=2\n')
  t.ok(f.watcher.emit(FILES.env))
  await reported(f, 1)
  t.match(f.d.entries(), [{ name: 'env', path: FILES.env, since: 1005 }])
  t.not(f.d.entries()[0]?.fingerprint, f.d.entries()[0]?.expected, 'fingerprints of what is there and what was expected')
  t.notMatch(JSON.stringify(f.d.entries()), /A=2/, 'no content, only fingerprints')
  f.watcher.emit(FILES.env)
  await f.d.check('env')
  t.equal(f.reports.length, 1, 'the same drift again is not reported twice')
  await f.store.write(FILES.env, 'A=1\n')
  f.watcher.emit(FILES.env)
  await reported(f, 2)
  t.same(f.d.entries(), [], 'back as committed')
})

t.test("the agent's own announced write is not drift, and clears drift on that file", async (t) => {
  const f = await detector(t)
  await f.d.start({ config: contentSha('version: v1\n'), env: contentSha('A=0\n') })
  t.match(f.d.entries(), [{ name: 'env' }], 'a file that differs from the commit at start is drift at once')
  f.d.expect('env', contentSha('A=1\n'))
  t.same(f.d.entries(), [], 'the write the agent announced is the new expectation')
  f.d.expect('config', contentSha('version: v1\nlog: {}\n'))
  await f.store.write(FILES.config, 'version: v1\nlog: {}\n')
  f.watcher.emit(FILES.config)
  await f.d.check('config')
  t.same(f.d.entries(), [])
  await f.d.check('unknown')
  t.same(f.d.entries(), [], 'a name it does not manage is ignored')
})

t.test('a removed file is drift with an empty fingerprint', async (t) => {
  const f = await detector(t)
  await f.d.start({})
  await f.store.remove(FILES.config)
  f.watcher.emit(FILES.config, 'unlink')
  await reported(f, 1)
  t.match(f.d.entries(), [{ name: 'config', fingerprint: '' }])
  await f.d.close()
  t.equal(f.watcher.closed, true)
})
