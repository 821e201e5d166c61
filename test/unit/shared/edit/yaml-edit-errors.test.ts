import t from 'tap'
import {
  InvalidPathError, YamlMultipleDocumentsError, YamlNotAMappingError, YamlParseError, YamlPathBlockedError, YamlUnsupportedError
} from '../../../../shared/edit/errors.js'
import { editYaml } from '../../../../shared/edit/yaml-edit.js'

const K1 = 'k1:XyTL0XrjcoTYxPbiWQpxA_HOc8PJWhgRU-TGqTRszmI'

t.test('paths through a scalar or a sequence are refused with the blocking node', async t => {
  const file = 'version: v1\ntls:\n  certs:\n    - key: a\n'
  t.throws(() => editYaml(file, { set: { 'version.x': 1 } }), {
    constructor: YamlPathBlockedError,
    code: 'SHR_YAML_PATH_BLOCKED',
    statusCode: 409,
    at: 'version',
    message: 'cannot edit version.x: version is a string scalar (line 1), not a mapping; set version itself to replace it'
  })
  t.throws(() => editYaml(file, { set: { 'tls.certs.key': 'b' } }), { code: 'SHR_YAML_PATH_BLOCKED', at: 'tls.certs', message: /tls\.certs is a sequence \(line 4\)/ })
  t.throws(() => editYaml(file, { delete: ['tls.certs.key'] }), { code: 'SHR_YAML_PATH_BLOCKED' }, 'deletes are refused the same way')
  t.throws(() => editYaml('a: *x\n', { set: { 'a.b': 1 } }), { code: 'SHR_YAML_PATH_BLOCKED', message: /a is an alias/ })
  t.throws(() => editYaml('x: &x {b: 1}\na: *x\n', { set: { 'a.b': 1 } }), { code: 'SHR_YAML_PATH_BLOCKED', message: /a is an alias/ })
})

t.test('anchored nodes that aliases share are not edited', async t => {
  t.throws(() => editYaml('a: &x\n  b: 1\nc: *x\n', { set: { 'a.b': 2 } }), { constructor: YamlUnsupportedError, code: 'SHR_YAML_UNSUPPORTED', statusCode: 422 })
  t.throws(() => editYaml('a: &x 1\nc: *x\n', { set: { a: 2 } }), { code: 'SHR_YAML_UNSUPPORTED' })
  t.equal(editYaml('a: &x\n  b: 1\n', { set: { 'a.b': 2 } }), 'a: &x\n  b: 2\n', 'an anchor nobody refers to is fine')
})

t.test('explicit keys are not edited', async t => {
  t.throws(() => editYaml('? a\n: 1\n', { set: { a: 2 } }), { code: 'SHR_YAML_UNSUPPORTED', message: /explicit keys/ })
})

t.test('several documents are refused, naming where the second starts', async t => {
  t.throws(() => editYaml('a: 1\n---\nb: 2\n', { set: { a: 2 } }), {
    constructor: YamlMultipleDocumentsError, code: 'SHR_YAML_MULTIPLE_DOCUMENTS', statusCode: 400, line: 2
  })
})

t.test('parse errors give line and column and never quote the source', async t => {
  const file = `version: v1\nhsm:\n  auth:\n    key: ${K1}\n  bad: [1, 2\n`
  const err = t.throws(() => editYaml(file, { set: { version: 'v1' } })) as YamlParseError
  t.ok(err instanceof YamlParseError)
  t.equal(err.code, 'SHR_YAML_PARSE')
  t.equal(err.statusCode, 400)
  t.equal(err.line, 6)
  t.equal(err.column, 1)
  t.notMatch(err.message, K1)
  t.notMatch(err.message, 'bad:')
  t.match(err.message, /^YAML does not parse at line 6, column 1: /)
  t.throws(() => editYaml('a: 1\na: 2\n', {}), { code: 'SHR_YAML_PARSE', line: 2, message: /Map keys must be unique/ })
})

t.test('a root that is not a mapping is refused', async t => {
  t.throws(() => editYaml('- a\n- b\n', { set: { a: 1 } }), { constructor: YamlNotAMappingError, message: 'the YAML document root is a sequence; a config file must be a mapping' })
  t.throws(() => editYaml('just text\n', {}), { code: 'SHR_YAML_NOT_A_MAPPING' })
})

t.test('malformed paths are refused before anything is parsed', async t => {
  t.throws(() => editYaml('a: 1\n', { set: { 'a..b': 1 } }), { constructor: InvalidPathError, code: 'SHR_EDIT_INVALID_PATH' })
  t.throws(() => editYaml('a: [\n', { delete: [''] }), { code: 'SHR_EDIT_INVALID_PATH' })
})

// Deleting or replacing a block that holds an anchor deeper down, which an alias outside refers
// to, left the alias dangling: the result did not read back and an uncoded error (a 500) escaped.
t.test('an anchor inside a block that is deleted or replaced, with an alias elsewhere: refused with the anchor\'s line', async t => {
  const text = 'version: v1\nhsm:\n  hashicorp:\n    vault: &v\n      endpoint: v\n  flow: {a: &f 1}\nother: *v\nagain: *f\n'
  for (const edit of [{ delete: ['hsm'] }, { delete: ['hsm.hashicorp'] }, { set: { hsm: 'x' } }]) {
    t.throws(() => editYaml(text, edit), { code: 'SHR_YAML_UNSUPPORTED', statusCode: 422, message: /the anchor &v that aliases elsewhere refer to \(line 4\); edit this part by hand/ }, JSON.stringify(edit))
  }
  t.throws(() => editYaml(text, { set: { 'hsm.flow.b': 2 } }), { code: 'SHR_YAML_UNSUPPORTED', message: /anchor &f .*\(line 6\)/ }, 'a flow mapping re-rendered would lose its anchor')
  const noAlias = text.replace('other: *v\nagain: *f\n', '')
  t.equal(editYaml(noAlias, { delete: ['hsm'] }), 'version: v1\n', 'anchors nobody refers to are no obstacle')
})
