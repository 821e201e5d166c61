import t from 'tap'
import { formatDottedPath, isWithin, parseDottedPath } from '../../../../shared/edit/dotted-path.js'
import { InvalidPathError } from '../../../../shared/edit/errors.js'

t.test('plain and quoted segments', async t => {
  t.same(parseDottedPath('hsm.minio.minkms'), ['hsm', 'minio', 'minkms'])
  t.same(parseDottedPath('tls."my.key".x'), ['tls', 'my.key', 'x'])
  t.same(parseDottedPath('"a\\"b"."c\\\\d"'), ['a"b', 'c\\d'])
  t.same(parseDottedPath('""'), [''])
  t.same(parseDottedPath('a b.c\\d'), ['a b', 'c\\d'], 'inner spaces and backslashes are literal in plain segments')
  t.same(parseDottedPath('api-key'), ['api-key'])
})

t.test('malformed paths say what is wrong', async t => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty path/],
    ['a..b', /empty segment 2/],
    ['.a', /empty segment 1/],
    ['a.', /ends with "."/],
    ['"a', /unterminated quote/],
    ['"a"b', /expected "\." after segment 1/],
    ['a"b"', /quote inside segment 1/],
    [' a', /leading or trailing whitespace/],
    ['"a\\x"', /only \\" and \\\\ may follow a backslash/]
  ]
  for (const [path, message] of cases) {
    t.throws(() => parseDottedPath(path), { constructor: InvalidPathError, code: 'SHR_EDIT_INVALID_PATH', statusCode: 400, message }, path)
  }
})

t.test('format is the inverse of parse', async t => {
  for (const segs of [['a', 'b'], ['tls', 'my.key'], ['a"b', 'c\\d'], [''], [' x '], ['a b']]) {
    t.same(parseDottedPath(formatDottedPath(segs)), segs, formatDottedPath(segs))
  }
  t.equal(formatDottedPath(['tls', 'my.key']), 'tls."my.key"')
  t.throws(() => formatDottedPath([]), TypeError)
})

t.test('isWithin', async t => {
  t.ok(isWithin(['a', 'b', 'c'], ['a', 'b']))
  t.ok(isWithin(['a'], ['a']))
  t.notOk(isWithin(['a'], ['a', 'b']))
  t.notOk(isWithin(['ab'], ['a']))
})
