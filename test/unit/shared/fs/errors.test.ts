import t from 'tap'
import { AtomicWriteError, FS_ERROR_CODES, FsError, NotAFileError } from '../../../../shared/fs/errors.js'

t.test('fs errors carry code, status, path, step and cause', async t => {
  const cause = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
  const err = new AtomicWriteError('/etc/minkms/config.yaml', 'write', cause)
  t.ok(err instanceof FsError)
  t.match(err, { code: 'SHR_FS_WRITE_FAILED', statusCode: 500, path: '/etc/minkms/config.yaml', step: 'write', cause })
  t.equal(err.message, 'writing /etc/minkms/config.yaml failed at write: no space left on device')
  t.match(new NotAFileError('/etc'), { code: 'SHR_FS_NOT_A_FILE', statusCode: 409, message: '/etc exists and is not a regular file; refusing to replace it' })
  t.same(Object.keys(FS_ERROR_CODES).sort(), ['SHR_FS_NOT_A_FILE', 'SHR_FS_WRITE_FAILED'])
})
