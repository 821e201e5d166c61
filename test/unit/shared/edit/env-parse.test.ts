import t from 'tap'
import { effectiveAssignment, effectiveEnv, parseEnvFile } from '../../../../shared/edit/env-parse.js'

const env = (text: string): Record<string, string> => Object.fromEntries(effectiveEnv(parseEnvFile(text)))

// Each case: a file, and what systemd's load_env_file + strv_env_clean (v254+) yields for it.
const CASES: Array<[string, string, Record<string, string>]> = [
  ['plain assignments', 'A=1\nB=two words\n', { A: '1', B: 'two words' }],
  ['# and ; comments, indented too', '# c\n; c\n   # indented\n\t; tab\nA=1\n', { A: '1' }],
  ['blank lines and leading whitespace', '\n\n   A=1\n\t\tB=2\n\n', { A: '1', B: '2' }],
  ['whitespace around = and after the value is dropped', 'A = 1   \nB\t=\t x y \t\n', { A: '1', B: 'x y' }],
  ['# and ; inside a value are ordinary characters', 'A=foo # bar\nB=x;y\n', { A: 'foo # bar', B: 'x;y' }],
  ['single quotes keep everything', 'A=\'x \\n "y" $z\'\n', { A: 'x \\n "y" $z' }],
  ['single quotes span lines', 'A=\'line1\nline2\'\nB=1\n', { A: 'line1\nline2', B: '1' }],
  ['double quotes unescape " \\ ` $ only', 'A="q\\"b\\\\s\\`t\\$d\\x\\n"\n', { A: 'q"b\\s`t$d\\x\\n' }],
  ['double quotes span lines; \\ + newline continues', 'A="one\ntwo \\\nthree"\n', { A: 'one\ntwo three' }],
  ['unquoted escapes keep the next character', 'A=a\\ b\\\\c\\"d\n', { A: 'a b\\c"d' }],
  ['a trailing backslash joins the next line', 'A=one \\\ntwo\nB=2\n', { A: 'one two', B: '2' }],
  ['an escaped trailing space survives', 'A=x\\ \n', { A: 'x ' }],
  ['parts concatenate; blanks between them go', 'A="a" \'b\'c\n', { A: 'abc' }],
  ['quotes after the first character are literal', 'A=a"b"\n', { A: 'a"b"' }],
  ['empty values', 'A=\nB=""\nC=\'\'\n', { A: '', B: '', C: '' }],
  ['export lines are ignored', 'export A=1\nB=2\n', { B: '2' }],
  ['invalid names are ignored', '1A=1\nA-B=2\nA B=3\nOK_1=4\n', { OK_1: '4' }],
  ['lines without = are ignored', 'JUSTTEXT\nA=1\n', { A: '1' }],
  ['the last duplicate wins', 'A=1\nB=x\nA=2\n', { A: '2', B: 'x' }],
  ['CRLF line ends', 'A=1\r\nB="x"\r\n', { A: '1', B: 'x' }],
  ['a comment ending in \\ does not continue (systemd >= 254)', '# note \\\nA=1\n', { A: '1' }],
  ['no final newline', 'A=1\nB=2', { A: '1', B: '2' }],
  ['an unterminated quote runs to the end', 'A="open\nB=2\n', { A: 'open\nB=2\n' }]
]

for (const [name, text, expected] of CASES) {
  t.test(name, async t => { t.same(env(text), expected) })
}

t.test('assignments carry their source positions and quoting', async t => {
  const text = '# head\n  A = "x y"  \nB=\'q\'\nC=plain\\\n more\nD=\n'
  const file = parseEnvFile(text)
  const [a, b, c, d] = file.assignments
  t.match(a, { key: 'A', value: 'x y', quoting: 'double', line: 2, valid: true })
  t.equal(text.slice(a?.start, a?.end), '  A = "x y"  \n')
  t.equal(text.slice(a?.valueStart, a?.valueEnd), '"x y"')
  t.match(b, { key: 'B', value: 'q', quoting: 'single', line: 3 })
  t.match(c, { key: 'C', value: 'plain more', quoting: 'plain', line: 4 })
  t.equal(text.slice(c?.start, c?.end), 'C=plain\\\n more\n', 'a continued value spans both lines')
  t.match(d, { key: 'D', value: '', quoting: 'empty' })
  t.equal(d?.valueStart, d?.valueEnd)
  t.equal(file.openAtEnd, undefined)
})

t.test('ignored lines are reported with a reason', async t => {
  const file = parseEnvFile('export A=1\n9X=2\nNOEQ\nB=3\n')
  t.same(file.ignored, [
    { line: 1, reason: 'export-prefix', key: 'A' },
    { line: 2, reason: 'invalid-name', key: '9X' },
    { line: 3, reason: 'no-equals' }
  ])
  t.match(file.assignments[0], { key: 'export A', exported: 'A', valid: false })
})

t.test('open values at the end are flagged', async t => {
  t.same(parseEnvFile('A=1\nB="open').openAtEnd, { line: 2 })
  t.same(parseEnvFile("A='open\n").openAtEnd, { line: 1 })
  t.same(parseEnvFile('A=x\\').openAtEnd, { line: 1 })
  t.equal(parseEnvFile('A="closed"').openAtEnd, undefined)
})

t.test('effectiveAssignment picks the last valid one', async t => {
  const file = parseEnvFile('A=1\nexport A=9\nA=2\n')
  t.equal(effectiveAssignment(file, 'A')?.line, 3)
  t.equal(effectiveAssignment(file, 'B'), undefined)
})
