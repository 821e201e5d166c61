import t, { type Test } from 'tap'
import { rename, rm, writeFile, appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ChokidarFileWatcher } from '../../../../agent/os/chokidar-file-watcher.js'
import { FakeFileWatcher } from '../../../../agent/os/fake-file-watcher.js'
import type { FileChange } from '../../../../agent/os/file-watcher.js'

const DEADLINE_MS = 5000

/** A watcher on `files` in a fresh directory, closed at teardown, with a queue of events. */
async function watched (t: Test, debounceMs = 60) {
  const dir = t.testdir({ 'config.yaml': 'version: v1\n', 'minkms.env': 'A=1\n', 'unrelated.txt': 'x\n' })
  const config = join(dir, 'config.yaml')
  const env = join(dir, 'minkms.env')
  const watcher = new ChokidarFileWatcher({ debounceMs })
  t.teardown(async () => { await watcher.close() })
  const events: FileChange[] = []
  const waiters: Array<() => void> = []
  await watcher.watch([config, env], (c) => { events.push(c); for (const w of waiters.splice(0)) w() })
  /** Resolves once `n` events arrived in total; rejects after the deadline. */
  const waitFor = async (n: number): Promise<FileChange[]> => {
    const end = Date.now() + DEADLINE_MS
    while (events.length < n) {
      const left = end - Date.now()
      if (left <= 0) throw new Error(`expected ${n} events, got ${JSON.stringify(events)}`)
      await new Promise<void>((resolve) => { const timer = setTimeout(resolve, left); waiters.push(() => { clearTimeout(timer); resolve() }) })
    }
    return events
  }
  /** Proves no further event comes: a marker write to the other file arrives alone. */
  const quietExcept = async (expected: number): Promise<void> => {
    await appendFile(env, '#marker\n')
    await waitFor(expected + 1)
    t.same(events.slice(expected).map((e) => e.path), [env], 'nothing else came before the marker')
  }
  return { dir, config, env, watcher, events, waitFor, quietExcept }
}

t.test('an edit in place: one change event', async (t) => {
  const w = await watched(t)
  await appendFile(w.config, 'a: 1\n')
  await appendFile(w.config, 'b: 2\n')
  t.same(await w.waitFor(1), [{ path: w.config, kind: 'change' }])
  await w.quietExcept(1)
})

t.test('an atomic rename-over (temp file + rename): one change, nothing for the temp file', async (t) => {
  const w = await watched(t)
  const tmp = join(w.dir, '.config.yaml.1234.tmp')
  await writeFile(tmp, 'version: v1\nnew: true\n')
  await rename(tmp, w.config)
  t.same(await w.waitFor(1), [{ path: w.config, kind: 'change' }])
  // And it still works afterwards (the directory watch survived the inode swap).
  await appendFile(w.config, 'c: 3\n')
  t.same((await w.waitFor(2))[1], { path: w.config, kind: 'change' })
})

t.test('delete, then re-create: unlink, then add', async (t) => {
  const w = await watched(t)
  await rm(w.config)
  t.same(await w.waitFor(1), [{ path: w.config, kind: 'unlink' }])
  await writeFile(w.config, 'version: v1\n')
  t.same((await w.waitFor(2))[1], { path: w.config, kind: 'add' })
})

t.test('a file that does not exist yet: add when it appears', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'later.yaml')
  const watcher = new ChokidarFileWatcher({ debounceMs: 50 })
  t.teardown(async () => { await watcher.close() })
  let resolveGot: (c: FileChange) => void = () => {}
  const got = new Promise<FileChange>((resolve) => { resolveGot = resolve })
  await watcher.watch([file], (c) => { resolveGot(c) })
  await writeFile(file, 'x\n')
  t.same(await got, { path: file, kind: 'add' })
})

t.test('other files in the directory are not reported', async (t) => {
  const w = await watched(t)
  await appendFile(join(w.dir, 'unrelated.txt'), 'y\n')
  await w.quietExcept(0)
})

t.test('no events after close, even for a burst already under way', async (t) => {
  const w = await watched(t, 200)
  // A witness with a longer debounce: once it reports, the closed watcher's timer would have fired.
  const witness = new ChokidarFileWatcher({ debounceMs: 300 })
  t.teardown(async () => { await witness.close() })
  let seen: () => void = () => {}
  const witnessed = new Promise<void>((resolve) => { seen = resolve })
  await witness.watch([w.config], () => { seen() })
  await appendFile(w.config, 'z: 1\n')
  await w.watcher.close()
  await witnessed
  t.same(w.events, [])
})

t.test('watch twice on one instance is refused', async (t) => {
  const w = await watched(t)
  await t.rejects(w.watcher.watch([w.config], () => {}), /already watching/)
})

t.test('FakeFileWatcher: emits to the watched paths only, until closed', async (t) => {
  const f = new FakeFileWatcher()
  const got: FileChange[] = []
  await f.watch(['/etc/minkms/config.yaml'], (c) => got.push(c))
  t.ok(f.emit('/etc/minkms/config.yaml'))
  t.notOk(f.emit('/etc/other'))
  await f.close()
  t.notOk(f.emit('/etc/minkms/config.yaml', 'unlink'))
  t.same(got, [{ path: '/etc/minkms/config.yaml', kind: 'change' }])
})
