import t from 'tap'
import { readdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicTempName } from '../../../../shared/fs/atomic-write.js'
import { atomicTempTarget, removeAtomicTemps } from '../../../../shared/fs/temp-sweep.js'

t.test('atomicTempTarget: which names are temp files of atomicWrite, and of what', async t => {
  t.equal(atomicTempTarget(atomicTempName('config.yaml')), 'config.yaml')
  t.equal(atomicTempTarget('.pending.json.0123456789abcdef.tmp'), 'pending.json', 'the name before the tag (older agents)')
  for (const other of ['config.yaml', '.config.yaml.swp', '.config.yaml.keyroll-0123.tmp', 'config.yaml.0123456789abcdef.tmp', '.x.keyroll-0123456789ABCDEF.tmp', '.x.keyroll-0123456789abcdef.tmp.bak']) {
    t.equal(atomicTempTarget(other), undefined, `${other}: not ours`)
  }
})

t.test('removes ours (only of the given targets), keeps everything else, never follows a symlink', async t => {
  const ours = atomicTempName('minkms', '0123456789abcdef')
  const grub = atomicTempName('grub', '0123456789abcdef')
  const dir = t.testdir({
    minkms: 'A=1\n',
    [ours]: 'A=2 secret\n',
    '.minkms.fedcba9876543210.tmp': 'older agent\n',
    [grub]: 'not a file we manage\n',
    '.minkms.swp': 'an editor\n',
    elsewhere: { target: 'kept' },
    sub: { [ours]: 'below: only with depth\n' }
  })
  const link = atomicTempName('minkms', 'ffffffffffffffff')
  await symlink(join(dir, 'elsewhere', 'target'), join(dir, link))
  const removed = await removeAtomicTemps(dir, { targets: ['minkms'] })
  t.same(removed.sort(), [join(dir, '.minkms.fedcba9876543210.tmp'), join(dir, ours)].sort(), 'the two temp files of minkms')
  t.same((await readdir(dir)).sort(), [link, '.minkms.swp', grub, 'elsewhere', 'minkms', 'sub'].sort(), 'the rest stays (the symlink too)')
  t.same(await readdir(join(dir, 'elsewhere')), ['target'], 'the symlink was not followed')
  t.same(await readdir(join(dir, 'sub')), [ours], 'depth 0: sub-directories untouched')
})

t.test('with depth, any target, below too; a missing directory has none', async t => {
  const dir = t.testdir({
    [atomicTempName('pending.json')]: '{}',
    backups: { 3: { [atomicTempName('config.sealed')]: 'sealed', 'config.sealed': 'kept' } },
    changes: { [atomicTempName('3.sealed')]: 'sealed' }
  })
  const removed = await removeAtomicTemps(dir, { depth: 2 })
  t.equal(removed.length, 3)
  t.same(await readdir(dir), ['backups', 'changes'])
  t.same(await readdir(join(dir, 'backups', '3')), ['config.sealed'])
  t.same(await removeAtomicTemps(join(dir, 'missing')), [])
})
