import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { diffLines, splitLines } from '../../../../shared/change/line-diff.js'
import { editYaml } from '../../../../shared/edit/yaml-edit.js'
import { repoRoot } from '../../../lab/repo.js'

const fixture = (name: string): string => readFileSync(join(repoRoot(), 'test/unit/shared/edit/fixtures', name), 'utf8')
const ODD = fixture('odd-formatting.yaml')
const K1 = 'k1:XyTL0XrjcoTYxPbiWQpxA_HOc8PJWhgRU-TGqTRszmI'
const HSM = {
  server: ['kms0.hsm-cluster.example.net:7373', 'kms1.hsm-cluster.example.net:7373'],
  enclave: 'aistor-key-manager',
  key: 'aistor-key-manager-hsm',
  auth: { key: K1 }
}

/** The lines a diff of old → new inserts; fails the test if it deletes any. */
function insertedLines (t: Test, before: string, after: string): string[] {
  const a = splitLines(before)
  const b = splitLines(after)
  const ops = diffLines(a, b)
  t.same(ops.filter(o => o.kind === 'delete'), [], 'no line removed or changed')
  return ops.flatMap(o => o.kind === 'insert' ? [b[o.b] ?? ''] : [])
}

/** `text` with exactly one occurrence of `from` replaced (fails when it is not exactly one). */
function replaceOnce (text: string, from: string, to: string): string {
  const i = text.indexOf(from)
  if (i === -1 || text.indexOf(from, i + 1) !== -1) throw new Error(`expected exactly one ${JSON.stringify(from)}`)
  return text.slice(0, i) + to + text.slice(i + from.length)
}

t.test('adding hsm.minio.minkms to an oddly formatted file adds lines and changes none', async t => {
  const out = editYaml(ODD, { set: { 'hsm.minio.minkms': HSM } })
  const block = [
    'hsm:',
    '    minio:',
    '        minkms:',
    '            server:',
    '              - kms0.hsm-cluster.example.net:7373',
    '              - kms1.hsm-cluster.example.net:7373',
    '            enclave: aistor-key-manager',
    '            key: aistor-key-manager-hsm',
    '            auth:',
    `                key: ${K1}`
  ]
  // The new section goes after the last key's block (and the comment indented under it), before
  // the blank line, the closing comment and the `...` end marker.
  t.equal(out, replaceOnce(ODD, '    # trailing comment in cache\n', '    # trailing comment in cache\n' + block.map(l => l + '\n').join('')))
  t.same(insertedLines(t, ODD, out), block.map(l => l + '\n'))
  t.same(parse(out).hsm, { minio: { minkms: HSM } })
})

t.test('the same change again returns the text unchanged', async t => {
  const once = editYaml(ODD, { set: { 'hsm.minio.minkms': HSM } })
  t.equal(editYaml(once, { set: { 'hsm.minio.minkms': HSM } }), once)
  t.equal(editYaml(ODD, { set: { version: 'v1', 'tls.ca': '/etc/minkms/certs/CAs' }, delete: ['nope', 'tls.nope'] }), ODD, 'equal values and missing deletes are no-ops')
  t.equal(editYaml(ODD, {}), ODD)
})

t.test('deleting what a set added restores the original bytes', async t => {
  const added = editYaml(ODD, { set: { 'hsm.minio.minkms': HSM } })
  t.equal(editYaml(added, { delete: ['hsm.minio.minkms'] }), ODD)
  const vault = fixture('existing-vault-hsm.yaml')
  const withMinio = editYaml(vault, { set: { 'hsm.minio.minkms': HSM } })
  t.equal(editYaml(withMinio, { delete: ['hsm.minio.minkms'] }), vault)
})

t.test('a new HSM next to an existing one: only added lines, in the file\'s 2-space style', async t => {
  const vault = fixture('existing-vault-hsm.yaml')
  const out = editYaml(vault, { set: { 'hsm.minio.minkms': HSM } })
  t.same(insertedLines(t, vault, out), [
    '  minio:\n', '    minkms:\n', '      server:\n',
    '        - kms0.hsm-cluster.example.net:7373\n', '        - kms1.hsm-cluster.example.net:7373\n',
    '      enclave: aistor-key-manager\n', '      key: aistor-key-manager-hsm\n', '      auth:\n', `        key: ${K1}\n`
  ])
  t.equal(out.indexOf('  # more HSMs below\n  minio:\n') > 0, true, 'after the comment indented under hsm')
})

t.test('replacing scalars keeps spacing, quote style, trailing blanks and comments', async t => {
  t.equal(editYaml(ODD, { set: { 'tls.ca': '/srv/CAs' } }), replaceOnce(ODD, '    ca:   /etc/minkms/certs/CAs\n', '    ca:   /srv/CAs\n'))
  t.equal(editYaml(ODD, { set: { 'cache.expiry': '10m' } }), replaceOnce(ODD, '    expiry: 5m   \n', '    expiry: 10m   \n'))
  t.equal(editYaml(ODD, { set: { name: 'kms "dev"' } }), replaceOnce(ODD, 'name: "kms \\"prod\\""\n', 'name: "kms \\"dev\\""\n'))
  t.equal(editYaml(ODD, { set: { version: 'v2' } }), replaceOnce(ODD, 'version: v1          # required\n', 'version: v2          # required\n'))
  t.equal(editYaml(ODD, { set: { version: 2 } }), replaceOnce(ODD, 'version: v1 ', 'version: 2 '), 'a number is written as a number')
  t.equal(editYaml(ODD, { set: { version: '2' } }), replaceOnce(ODD, 'version: v1 ', 'version: "2" '), 'a string that looks like a number is quoted')
})

t.test('flow collections: scalars are spliced, other edits re-render the collection', async t => {
  t.equal(editYaml(ODD, { set: { 'log.level': 'debug' } }), replaceOnce(ODD, '{ level: info , format: json }', '{ level: debug , format: json }'))
  t.equal(editYaml(ODD, { set: { 'log.level': 'a, b' } }), replaceOnce(ODD, '{ level: info , format: json }', '{ level: "a, b" , format: json }'), 'flow indicators get quoted')
  t.equal(editYaml(ODD, { set: { 'log.file': '/var/log/kms' } }), replaceOnce(ODD, '{ level: info , format: json }', '{ level: info, format: json, file: /var/log/kms }'))
  t.equal(editYaml(ODD, { delete: ['log.format'] }), replaceOnce(ODD, '{ level: info , format: json }', '{ level: info }'))
  t.equal(editYaml(ODD, { set: { 'tls.ciphers': ['TLS_AES_256_GCM_SHA384'] } }), replaceOnce(ODD, '[ TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384 ]', '[ TLS_AES_256_GCM_SHA384 ]'), 'a flow list stays flow')
  const vault = fixture('existing-vault-hsm.yaml')
  t.equal(editYaml(vault, { set: { 'hsm.hashicorp.vault.approle.secret': 'new-id' } }), replaceOnce(vault, 'secret: "secret-id-123"', 'secret: "new-id"'))
  t.equal(editYaml('a: {b: 1}\n', { delete: ['a.b'] }), '', 'a flow mapping left empty goes with its key')
  t.equal(editYaml('log: {level: info}\n', { set: { 'log.level': { a: 1 } } }), 'log: {level: {a: 1}}\n', 'collections inside flow stay flow')
  t.equal(editYaml('log: {level: info}\n', { set: { 'log.x.y': [1] } }), 'log: {level: info, x: {y: [1]}}\n', 'missing parents inside flow')
})

t.test('deleting a key removes its lines and nothing else', async t => {
  t.equal(editYaml(ODD, { delete: ['tls.ciphers'] }), replaceOnce(ODD, '    ciphers: [ TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384 ]\n', ''))
  t.equal(editYaml(ODD, { delete: ['tls.certs'] }), replaceOnce(ODD,
    '    certs:\n    -   key:  "/etc/minkms/certs/private.key"     # quoted, extra spaces\n        cert: \'/etc/minkms/certs/public.crt\'\n', ''))
  t.equal(editYaml(ODD, { delete: ['cache.expiry'] }), replaceOnce(ODD, 'cache:\n    expiry: 5m   \n    # trailing comment in cache\n', ''), 'an emptied mapping goes too, with comments indented under it')
  t.equal(editYaml('x: 1\na:\n  b:\n    c: 1\ny: 2\n', { delete: ['a.b.c'] }), 'x: 1\ny: 2\n')
  t.equal(editYaml('x: 1\na:\n  b:\n    c: 1\n    d: 2\n', { delete: ['a.b.c'] }), 'x: 1\na:\n  b:\n    d: 2\n')
})

t.test('setting a mapping over a mapping edits only the keys that differ', async t => {
  const file = fixture('with-hsm.yaml')
  const out = editYaml(file, { set: { 'hsm.minio.minkms': { ...HSM, server: ['kms2.hsm-cluster.example.net:7373'], enclave: 'other' } } })
  t.equal(out, file
    .replace('        - kms0.hsm-cluster.example.net:7373\n        - kms1.hsm-cluster.example.net:7373\n', '        - kms2.hsm-cluster.example.net:7373\n')
    .replace('enclave: aistor-key-manager   # created in step 1', 'enclave: other   # created in step 1'))
  t.match(out, '# the external Key Manager', 'comments inside the section survive')
  const fewer = editYaml(file, { set: { 'hsm.minio.minkms': { server: HSM.server, enclave: 'aistor-key-manager', key: 'aistor-key-manager-hsm' } } })
  t.equal(fewer, file.replace(`      auth:\n        key: ${K1}\n`, ''), 'keys missing from the new mapping are removed')
})

t.test('changing the type of a value', async t => {
  t.equal(editYaml('a: x # c\nb: 1\n', { set: { a: { p: 1, q: [1, 2] } } }), 'a: # c\n  p: 1\n  q:\n    - 1\n    - 2\nb: 1\n')
  t.equal(editYaml('a:\n  b: 1\n  # note on b\n  c: 2\nd: 1\n', { set: { a: 5 } }), 'a: 5\nd: 1\n')
  t.equal(editYaml('a:\n  b: 1\nd: 1\n', { set: { a: {} } }), 'a: {}\nd: 1\n')
  t.equal(editYaml('a: |\n  hi\n  there\nb: 1\n', { set: { a: 'one' } }), 'a: one\nb: 1\n')
  t.equal(editYaml('a: x # c\nb: 1\n', { set: { a: 'one\ntwo' } }), 'a: |- # c\n  one\n  two\nb: 1\n')
  t.equal(editYaml('a:\n  hello\nb: 1\n', { set: { a: 'x' } }), 'a: x\nb: 1\n')
})

t.test('missing or null parents are created as mappings', async t => {
  t.equal(editYaml('hsm:\nx: 1\n', { set: { 'hsm.minio.minkms.enclave': 'e' } }), 'hsm:\n  minio:\n    minkms:\n      enclave: e\nx: 1\n')
  t.equal(editYaml('hsm: # the HSMs\nx: 1\n', { set: { 'hsm.minio': { a: 1 } } }), 'hsm: # the HSMs\n  minio:\n    a: 1\nx: 1\n')
  t.equal(editYaml('hsm: ~\n', { set: { 'hsm.a': 1 } }), 'hsm:\n  a: 1\n')
  t.equal(editYaml('', { set: { 'a.b': 1 } }), 'a:\n  b: 1\n')
  t.equal(editYaml('# only a comment\n', { set: { a: 1 } }), '# only a comment\na: 1\n')
})

t.test('quoted path segments address keys holding dots', async t => {
  t.equal(editYaml('a:\n  b.c: 1\n', { set: { 'a."b.c"': 2 } }), 'a:\n  b.c: 2\n')
  t.equal(editYaml('a:\n  b:\n    c: 1\n', { set: { 'a."b.c"': 2 } }), 'a:\n  b:\n    c: 1\n  b.c: 2\n')
})

t.test('CRLF files keep CRLF, also in new lines', async t => {
  const crlf = ODD.replace(/\n/g, '\r\n')
  const out = editYaml(crlf, { set: { 'hsm.minio.minkms': HSM } })
  t.equal(out, editYaml(ODD, { set: { 'hsm.minio.minkms': HSM } }).replace(/\n/g, '\r\n'))
  t.notMatch(out.replace(/\r\n/g, ''), /\n/, 'no bare LF')
  t.equal(editYaml(crlf, { set: { 'tls.ca': '/x' } }), replaceOnce(crlf, 'ca:   /etc/minkms/certs/CAs\r\n', 'ca:   /x\r\n'))
  t.equal(editYaml(crlf, { delete: ['tls.ciphers'] }), replaceOnce(crlf, '    ciphers: [ TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384 ]\r\n', ''))
})

t.test('a file without a final newline keeps ending without one', async t => {
  const file = fixture('no-trailing-newline.yaml')
  t.equal(editYaml(file, { set: { 'hsm.minio.minkms.enclave': 'e' } }), `${file}\nhsm:\n  minio:\n    minkms:\n      enclave: e`)
  t.equal(editYaml(file, { set: { 'tls.ca': '/x' } }), 'version: v1\ntls:\n  ca: /x')
  t.equal(editYaml(file, { set: { 'tls.certs': [] } }), `${file}\n  certs: []`)
  t.equal(editYaml(file, { delete: ['tls'] }), 'version: v1')
  t.equal(editYaml('a: 1\nb:\n  c: 1', { set: { b: 2 } }), 'a: 1\nb: 2')
})

t.test('an empty flow mapping under a key is filled in block style, its comment kept', async t => {
  const file = 'version: v1\nhsm: {}   # the external HSM goes here\nlog:\n  level: info\n'
  const filled = 'version: v1\nhsm:   # the external HSM goes here\n  minio:\n    minkms:\n      server:\n        - kms0:7373\n      enclave: e\nlog:\n  level: info\n'
  t.equal(editYaml(file, { set: { 'hsm.minio.minkms': { server: ['kms0:7373'], enclave: 'e' } } }), filled, 'a path into the placeholder')
  t.equal(editYaml(file, { set: { hsm: { minio: { minkms: { server: ['kms0:7373'], enclave: 'e' } } } } }), filled, 'a mapping over the placeholder')
  t.equal(editYaml(file, { set: { hsm: {} } }), file, 'an empty mapping over it changes nothing')
  t.equal(editYaml('a:\n    hsm: {}\n', { set: { 'a.hsm.x': 1 } }), 'a:\n    hsm:\n        x: 1\n', 'in the file\'s indentation')
  t.equal(editYaml('a: 1\nhsm: {}', { set: { 'hsm.x': 1 } }), 'a: 1\nhsm:\n  x: 1', 'at the end of a file without a final newline')
  t.equal(editYaml('hsm: { a: {} }\n', { set: { 'hsm.a.x': 1 } }), 'hsm: { a: {x: 1} }\n', 'inside a flow mapping it stays flow')
  t.equal(editYaml('hsm: {b: 1}\n', { set: { 'hsm.x': 1 } }), 'hsm: {b: 1, x: 1}\n', 'a flow mapping with entries stays flow')
})

t.test('a 4-space file gets 4-space sections', async t => {
  const out = editYaml('a:\n    b: 1\n', { set: { 'c.d.e': 1 } })
  t.equal(out, 'a:\n    b: 1\nc:\n    d:\n        e: 1\n')
})

t.test('every scalar leaf of the odd file: a set changes exactly its line, a delete only removes lines', async t => {
  const leaves: string[][] = []
  const walk = (node: unknown, path: string[]): void => {
    if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node)) walk(v, [...path, k])
    } else if (!Array.isArray(node)) leaves.push(path)
  }
  walk(parse(ODD), [])
  t.same(leaves.map(p => p.join('.')), ['version', 'tls.ca', 'log.level', 'log.format', 'name', 'cache.expiry'])
  for (const leaf of leaves) {
    const path = leaf.join('.')
    const set = editYaml(ODD, { set: { [path]: 'changed value' } })
    const ops = diffLines(splitLines(ODD), splitLines(set))
    t.same([ops.filter(o => o.kind === 'delete').length, ops.filter(o => o.kind === 'insert').length], [1, 1], `set ${path}: one line replaced`)
    const expected = parse(ODD) as Record<string, Record<string, unknown>>
    if (leaf.length === 1) expected[leaf[0] ?? ''] = 'changed value' as never
    else (expected[leaf[0] ?? ''] ?? {})[leaf[1] ?? ''] = 'changed value'
    t.same(parse(set), expected)
    const del = editYaml(ODD, { delete: [path] })
    t.same(diffLines(splitLines(ODD), splitLines(del)).filter(o => o.kind === 'insert' && !leaf[0]?.startsWith('log')), [], `delete ${path}: nothing inserted`)
    t.notOk(path in flatten(parse(del)), `delete ${path}: gone`)
  }
})

function flatten (v: unknown, prefix = ''): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { [prefix]: v }
  return Object.assign({}, ...Object.entries(v).map(([k, x]) => flatten(x, prefix === '' ? k : `${prefix}.${k}`)))
}

// A UTF-8 byte order mark before the first key (a file saved by a Windows editor): yaml skips it,
// the splicing used to count it as a column and refused ("the key does not start its line").
t.test('a byte order mark before the first key: edits work and the mark stays', async t => {
  const text = '\uFEFFversion: v1\ntls:\n  ca: /etc/minkms/certs/CAs\n'
  const out = editYaml(text, { set: { 'hsm.minio.minkms.enclave': 'e' } })
  t.equal(out, `${text}hsm:\n  minio:\n    minkms:\n      enclave: e\n`, 'lines added at the end, mark kept')
  t.equal(editYaml(text, { delete: ['version'] }), '\uFEFFtls:\n  ca: /etc/minkms/certs/CAs\n', 'deleting line 1 keeps the mark')
  t.equal(editYaml(text, { delete: ['nothing'] }), text, 'nothing to do: the same text')
})

// yaml ends a nested block whose last line is a comment after the indentation of the next line;
// the editor took that next line (a sibling key) for part of the block.
t.test('a nested block ending with a comment line, followed by an indented sibling', async t => {
  const text = 'hsm:\n  hashicorp:\n    vault:\n      endpoint: v\n      # retry: 3\n  minio:\n    minkms:\n      key: x\n'
  t.equal(editYaml(text, { delete: ['hsm.hashicorp.vault'] }), 'hsm:\n  minio:\n    minkms:\n      key: x\n', 'the block and its comment go, minio stays')
  t.equal(editYaml(text, { set: { 'hsm.hashicorp.other': 1 } }), 'hsm:\n  hashicorp:\n    vault:\n      endpoint: v\n      # retry: 3\n    other: 1\n  minio:\n    minkms:\n      key: x\n', 'a new key goes after the comment, above minio')
  t.equal(editYaml(text, { set: { 'hsm.hashicorp': 'off' } }), 'hsm:\n  hashicorp: off\n  minio:\n    minkms:\n      key: x\n', 'the block replaced by a scalar')
})
