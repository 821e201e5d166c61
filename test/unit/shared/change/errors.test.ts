import t from 'tap'
import { CHANGE_ERROR_CODES, ChangeError, ChangeSpecSyntaxError, ChangeValidationError } from '../../../../shared/change/errors.js'
import { EDIT_ERROR_CODES } from '../../../../shared/edit/errors.js'
import { FS_ERROR_CODES } from '../../../../shared/fs/errors.js'
import { MINKMS_ERROR_CODES } from '../../../../shared/minkms/errors.js'

t.test('codes are unique across the shared catalogues', async t => {
  const all = [...Object.keys(CHANGE_ERROR_CODES), ...Object.keys(EDIT_ERROR_CODES), ...Object.keys(FS_ERROR_CODES), ...Object.keys(MINKMS_ERROR_CODES)]
  t.equal(new Set(all).size, all.length)
  for (const code of all) t.match(code, /^SHR_[A-Z0-9_]+$/)
})

t.test('change errors carry code, status and positions', async t => {
  const syntax = new ChangeSpecSyntaxError('bad', { line: 3, column: 4 })
  t.ok(syntax instanceof ChangeError)
  t.match(syntax, { code: 'SHR_CHANGE_SPEC_SYNTAX', statusCode: 400, line: 3, column: 4, message: 'change spec does not parse at line 3, column 4: bad' })
  t.notOk('line' in new ChangeSpecSyntaxError('x'), 'no position when unknown')
  const invalid = new ChangeValidationError([{ path: 'revision', message: 'must be >= 1', line: 1 }])
  t.match(invalid, { code: 'SHR_CHANGE_INVALID', statusCode: 400, message: 'invalid change (1 problem):\nrevision: must be >= 1 (line 1)' })
  t.same(Object.keys(CHANGE_ERROR_CODES).sort(), ['SHR_CHANGE_INVALID', 'SHR_CHANGE_SPEC_SYNTAX', 'SHR_CHANGE_TOO_DEEP', 'SHR_CHANGE_TOO_LARGE', 'SHR_CHANGE_YAML_ALIASES'])
})
