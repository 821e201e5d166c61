import t from 'tap'
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FsFileStore } from '../../../../agent/os/fs-file-store.js'
import { atomicTempName } from '../../../../shared/fs/atomic-write.js'

t.test('removeLeftovers: the temp files of the given files, beside a symlink and beside its target', async (t) => {
  const a = atomicTempName('config.yaml', '0123456789abcdef')
  const b = atomicTempName('minkms.env', '0123456789abcdef')
  const other = atomicTempName('grub', '0123456789abcdef')
  const dir = t.testdir({
    etc: { 'config.yaml': 'x', [a]: 'secret', [other]: 'not ours to manage', '.config.yaml.swp': 'editor' },
    real: { 'minkms.env': 'A=1', [b]: 'secret' }
  })
  await symlink(join(dir, 'real', 'minkms.env'), join(dir, 'etc', 'minkms.env'))
  const store = new FsFileStore()
  const removed = await store.removeLeftovers([join(dir, 'etc', 'config.yaml'), join(dir, 'etc', 'minkms.env')])
  t.same(removed.sort(), [join(dir, 'etc', a), join(dir, 'real', b)].sort())
  t.same((await readdir(join(dir, 'etc'))).sort(), [other, '.config.yaml.swp', 'config.yaml', 'minkms.env'].sort())
  t.same(await readdir(join(dir, 'real')), ['minkms.env'])
  t.same(await store.removeLeftovers([join(dir, 'missing', 'f')]), [], 'a missing directory has none')
})

t.test('a write leaves no temporary file', async (t) => {
  const dir = t.testdir({ 'config.yaml': 'old' })
  const store = new FsFileStore()
  await store.write(join(dir, 'config.yaml'), 'new')
  t.equal(await readFile(join(dir, 'config.yaml'), 'utf8'), 'new')
  t.same(await readdir(dir), ['config.yaml'])
})

// readFile(…, 'utf8') reads a Latin-1 byte as U+FFFD without a word; written back, the file would
// change in a line nobody edited. The store says so (the applier refuses to edit such a file).
t.test('read: bytes that are not UTF-8 are flagged with their line; a byte order mark stays in the text', async (t) => {
  const dir = t.testdir()
  const store = new FsFileStore()
  await writeFile(join(dir, 'latin1'), Buffer.from('version: v1\n# f\xfcr M\xfcnchen\n', 'latin1'))
  const bad = await store.read(join(dir, 'latin1'))
  t.same(bad.invalidUtf8, { line: 2 })
  await writeFile(join(dir, 'bom'), '\uFEFFversion: v1\n# für München\n')
  const good = await store.read(join(dir, 'bom'))
  t.equal(good.content, '\uFEFFversion: v1\n# für München\n')
  t.equal(good.invalidUtf8, undefined)
  t.same(await store.read(join(dir, 'missing')), { content: undefined, meta: undefined })
})
