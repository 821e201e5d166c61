import t from 'tap'
import { chmod, chown, lstat, mkdir, readdir, readFile, stat, symlink, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicTempName, atomicWrite, nodeAtomicWriteFs, type AtomicWriteFs } from '../../../../shared/fs/atomic-write.js'
import { AtomicWriteError, NotAFileError } from '../../../../shared/fs/errors.js'

const isRoot = process.getuid?.() === 0

/** A FileHandle whose `method` fails (after writing half the data, for writeFile). */
function failingHandle (fh: FileHandle, method: 'writeFile' | 'sync' | 'chmod', code: string): FileHandle {
  return new Proxy(fh, {
    get (target, prop, receiver) {
      if (prop === method) {
        return async (data: string | Uint8Array) => {
          if (method === 'writeFile') await target.writeFile(typeof data === 'string' ? data.slice(0, data.length / 2) : data)
          throw Object.assign(new Error(`injected ${code}`), { code })
        }
      }
      const v = Reflect.get(target, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    }
  })
}

t.test('replaces content and keeps mode; leaves no temp file', async t => {
  const dir = t.testdir({ 'config.yaml': 'old\n' })
  const path = join(dir, 'config.yaml')
  await chmod(path, 0o640)
  await atomicWrite(path, 'new content\n')
  t.equal(await readFile(path, 'utf8'), 'new content\n')
  t.equal((await stat(path)).mode & 0o7777, 0o640)
  t.same(await readdir(dir), ['config.yaml'])
  await atomicWrite(path, Buffer.from('bytes\n'))
  t.equal(await readFile(path, 'utf8'), 'bytes\n')
})

t.test('keeps the owner (as root)', { skip: isRoot ? false : 'needs root to chown' }, async t => {
  const dir = t.testdir({ minkms: 'MINIO_KMS_VOLUME=/mnt\n' })
  const path = join(dir, 'minkms')
  await chown(path, 65534, 65534)
  await chmod(path, 0o600)
  await atomicWrite(path, 'MINIO_KMS_VOLUME=/data\n', { mode: 0o644 })
  const st = await stat(path)
  t.same([st.uid, st.gid, st.mode & 0o7777], [65534, 65534, 0o600], 'owner and mode of the old file, not opts.mode')
})

t.test('new files get the given mode (default 0600) whatever the umask', async t => {
  const dir = t.testdir({})
  const old = process.umask(0o000)
  t.teardown(() => process.umask(old))
  await atomicWrite(join(dir, 'a'), 'x')
  t.equal((await stat(join(dir, 'a'))).mode & 0o7777, 0o600)
  await atomicWrite(join(dir, 'b'), 'x', { mode: 0o644 })
  t.equal((await stat(join(dir, 'b'))).mode & 0o7777, 0o644)
  if (isRoot) {
    await atomicWrite(join(dir, 'c'), 'x', { uid: 65534, gid: 65534 })
    const st = await stat(join(dir, 'c'))
    t.same([st.uid, st.gid], [65534, 65534], 'a new file can be given an owner')
  }
  t.same((await readdir(dir)).sort(), isRoot ? ['a', 'b', 'c'] : ['a', 'b'])
})

t.test('a symlink is followed: the file it points to is replaced, the link stays', async t => {
  const dir = t.testdir({ real: { 'minkms.env': 'A=1\n' } })
  await symlink(join(dir, 'real', 'minkms.env'), join(dir, 'link'))
  await atomicWrite(join(dir, 'link'), 'A=2\n')
  t.ok((await lstat(join(dir, 'link'))).isSymbolicLink())
  t.equal(await readFile(join(dir, 'real', 'minkms.env'), 'utf8'), 'A=2\n')
  t.same(await readdir(join(dir, 'real')), ['minkms.env'], 'the temp file lived next to the real file')
})

t.test('injected failures leave the old content and no temp file', async t => {
  const failures: Array<[string, Partial<AtomicWriteFs>]> = [
    ['write', { open: async (p, f, m) => failingHandle(await nodeAtomicWriteFs.open(p, f, m), 'writeFile', 'ENOSPC') }],
    ['fsync', { open: async (p, f, m) => failingHandle(await nodeAtomicWriteFs.open(p, f, m), 'sync', 'EIO') }],
    ['chmod', { open: async (p, f, m) => failingHandle(await nodeAtomicWriteFs.open(p, f, m), 'chmod', 'EPERM') }],
    ['rename', { rename: async () => { throw Object.assign(new Error('injected EXDEV'), { code: 'EXDEV' }) } }],
    ['open', { open: async () => { throw Object.assign(new Error('injected EMFILE'), { code: 'EMFILE' }) } }]
  ]
  for (const [step, fs] of failures) {
    const dir = t.testdir({ 'config.yaml': 'old content\n' })
    const path = join(dir, 'config.yaml')
    const err = await atomicWrite(path, 'new content that is long enough to be cut in half\n', { fs }).then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof AtomicWriteError, step)
    t.match(err, { code: 'SHR_FS_WRITE_FAILED', statusCode: 500, step, path })
    t.equal(await readFile(path, 'utf8'), 'old content\n', `${step}: target untouched`)
    t.same(await readdir(dir), ['config.yaml'], `${step}: no temp file left`)
  }
})

t.test('a failing directory fsync is reported after the new content is in place', async t => {
  const dir = t.testdir({ f: 'old' })
  const path = join(dir, 'f')
  const fs = {
    open: async (p: string, flags: string, mode?: number) => {
      if (flags === 'r') throw Object.assign(new Error('injected EIO'), { code: 'EIO' })
      return await nodeAtomicWriteFs.open(p, flags, mode)
    }
  }
  await t.rejects(atomicWrite(path, 'new', { fs }), { code: 'SHR_FS_WRITE_FAILED', step: 'fsync-dir' })
  t.equal(await readFile(path, 'utf8'), 'new')
  t.same(await readdir(dir), ['f'])
})

t.test('refuses to replace a directory; a missing directory fails at open', async t => {
  const dir = t.testdir({})
  await mkdir(join(dir, 'sub'))
  await t.rejects(atomicWrite(join(dir, 'sub'), 'x'), NotAFileError)
  await t.rejects(atomicWrite(join(dir, 'missing', 'f'), 'x'), { code: 'SHR_FS_WRITE_FAILED', step: 'open' })
  await writeFile(join(dir, 'plain'), 'p')
  t.same((await readdir(dir)).sort(), ['plain', 'sub'])
})

t.test('a failing stat is reported as such', async t => {
  const dir = t.testdir({ f: 'old' })
  const fs = { stat: async () => { throw Object.assign(new Error('injected EACCES'), { code: 'EACCES' }) } }
  await t.rejects(atomicWrite(join(dir, 'f'), 'new', { fs }), { code: 'SHR_FS_WRITE_FAILED', step: 'stat' })
  t.equal(await readFile(join(dir, 'f'), 'utf8'), 'old')
})

t.test('the temp file has a recognisable name and stays 0600 until its content is complete', async t => {
  const dir = t.testdir({ 'config.yaml': 'old\n' })
  const path = join(dir, 'config.yaml')
  await chmod(path, 0o644)
  const seen: Array<{ name: string, mode: number, content: string }> = []
  const fs: Partial<AtomicWriteFs> = {
    open: async (p, f, m) => {
      const fh = await nodeAtomicWriteFs.open(p, f, m)
      if (f !== 'wx') return fh
      // Look at the temp file as a kill right after the write would leave it.
      return new Proxy(fh, {
        get (target, prop, receiver) {
          if (prop === 'writeFile') {
            return async (data: string) => {
              await target.writeFile(data)
              seen.push({ name: p.slice(dir.length + 1), mode: (await stat(p)).mode & 0o7777, content: await readFile(p, 'utf8') })
            }
          }
          const v = Reflect.get(target, prop, receiver) as unknown
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        }
      })
    }
  }
  await atomicWrite(path, 'auth: k1:secret\n', { fs })
  t.equal(seen.length, 1)
  t.match(seen[0]?.name, /^\.config\.yaml\.keyroll-[0-9a-f]{16}\.tmp$/, 'named .<file>.keyroll-<hex>.tmp')
  t.equal(seen[0]?.name, atomicTempName('config.yaml', seen[0]?.name.slice(-20, -4)), 'as atomicTempName says')
  t.equal(seen[0]?.mode, 0o600, 'with its whole content, the temp file is still 0600')
  t.equal(seen[0]?.content, 'auth: k1:secret\n')
  t.equal((await stat(path)).mode & 0o7777, 0o644, 'the target keeps its mode')
})
