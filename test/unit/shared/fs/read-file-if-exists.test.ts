import t from 'tap'
import { join } from 'node:path'
import { readFileIfExists } from '../../../../shared/fs/read-file-if-exists.js'

t.test('content, undefined when missing, errors otherwise', async t => {
  const dir = t.testdir({ f: 'héllo\n', sub: {} })
  t.equal(await readFileIfExists(join(dir, 'f')), 'héllo\n')
  t.equal(await readFileIfExists(join(dir, 'nope')), undefined)
  await t.rejects(readFileIfExists(join(dir, 'sub')), { code: 'EISDIR' })
  await t.rejects(readFileIfExists(join(dir, 'f', 'x')), { code: 'ENOTDIR' })
})
