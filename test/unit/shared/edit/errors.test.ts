import t from 'tap'
import {
  EDIT_ERROR_CODES, EditError, EnvEditMismatchError, InvalidEnvKeyError, InvalidEnvValueError, InvalidPathError,
  YamlEditMismatchError, YamlMultipleDocumentsError, YamlNotAMappingError,
  YamlParseError, YamlPathBlockedError, YamlUnsupportedError
} from '../../../../shared/edit/errors.js'

// One instance of every error class, with the status it must carry.
const ERRORS: Array<[EditError, number]> = [
  [new InvalidPathError('a..b', 'empty segment'), 400],
  [new YamlParseError('bad', 1, 2), 400],
  [new YamlMultipleDocumentsError(2, 3), 400],
  [new YamlNotAMappingError('a sequence'), 400],
  [new YamlPathBlockedError('a.b', 'a', 'a scalar', 1), 409],
  [new YamlUnsupportedError('a', 'why', 1), 422],
  [new YamlEditMismatchError('what'), 500],
  [new InvalidEnvKeyError('1A'), 400],
  [new InvalidEnvValueError('A', 'why'), 400],
  [new EnvEditMismatchError('what'), 409]
]

t.test('every class has a documented SHR_ code and its HTTP status', async t => {
  for (const [err, status] of ERRORS) {
    t.ok(err instanceof EditError)
    t.ok(Object.hasOwn(EDIT_ERROR_CODES, err.code), err.code)
    t.match(err.code, /^SHR_/)
    t.equal(err.statusCode, status, err.code)
    t.equal(err.name, err.constructor.name)
  }
  t.same(new Set(ERRORS.map(([e]) => e.code)), new Set(Object.keys(EDIT_ERROR_CODES)), 'every documented code is used')
  for (const [err, status] of ERRORS) t.equal(EDIT_ERROR_CODES[err.code].status, status, `${err.code}: the catalogue holds its status`)
})
