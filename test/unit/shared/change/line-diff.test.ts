import t from 'tap'
import { diffLines, splitLines, unifiedDiff } from '../../../../shared/change/line-diff.js'

const apply = (a: string[], b: string[]): string[] => diffLines(a, b).flatMap(op => op.kind === 'delete' ? [] : [op.kind === 'insert' ? b[op.b] ?? '' : a[op.a] ?? ''])

t.test('splitLines keeps line endings', async t => {
  t.same(splitLines('a\nb\r\nc'), ['a\n', 'b\r\n', 'c'])
  t.same(splitLines('a\n'), ['a\n'])
  t.same(splitLines(''), [])
})

t.test('the edit script is minimal and rebuilds the new text', async t => {
  const a = ['a', 'b', 'c', 'a', 'b', 'b', 'a']
  const b = ['c', 'b', 'a', 'b', 'a', 'c']
  const ops = diffLines(a, b)
  t.equal(ops.filter(o => o.kind !== 'equal').length, 5, 'Myers finds the shortest script (D=5)')
  t.same(apply(a, b), b)
  t.same(diffLines([], ['x']), [{ kind: 'insert', b: 0 }])
  t.same(diffLines(['x'], []), [{ kind: 'delete', a: 0 }])
  t.same(diffLines(['x'], ['x']), [{ kind: 'equal', a: 0, b: 0 }])
  // Random texts: the script always rebuilds b.
  let seed = 42
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  for (let i = 0; i < 200; i++) {
    const x = Array.from({ length: Math.floor(rnd() * 12) }, () => 'abc'[Math.floor(rnd() * 3)] ?? 'a')
    const y = Array.from({ length: Math.floor(rnd() * 12) }, () => 'abc'[Math.floor(rnd() * 3)] ?? 'a')
    t.same(apply(x, y), y)
  }
})

t.test('unified diff with context, hunks and headers', async t => {
  const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'].map(l => l + '\n').join('')
  const after = before.replace('2\n', 'two\n').replace('11\n', '11\neleven-and-a-half\n')
  t.equal(unifiedDiff(before, after, { oldLabel: 'a/f', newLabel: 'b/f' }), [
    '--- a/f', '+++ b/f',
    '@@ -1,5 +1,5 @@', ' 1', '-2', '+two', ' 3', ' 4', ' 5',
    '@@ -9,4 +9,5 @@', ' 9', ' 10', ' 11', '+eleven-and-a-half', ' 12', ''
  ].join('\n'))
  t.equal(unifiedDiff('a\n', 'a\n', { oldLabel: 'x', newLabel: 'x' }), '')
  t.equal(unifiedDiff('', 'a\n', { oldLabel: 'x', newLabel: 'x' }), '--- x\n+++ x\n@@ -0,0 +1 @@\n+a\n')
  t.equal(unifiedDiff('a\r\nb\r\n', 'a\r\nc\r\n', { oldLabel: 'x', newLabel: 'x', mapLine: l => l.toUpperCase() }), '--- x\n+++ x\n@@ -1,2 +1,2 @@\n A\n-B\n+C\n')
})

t.test('a text without a final newline: lines added after its last line show as added only', async t => {
  const o = { oldLabel: 'x', newLabel: 'x' }
  t.equal(unifiedDiff('a', 'a\nb', o), '--- x\n+++ x\n@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file\n')
  t.equal(unifiedDiff('x\r\na', 'x\r\na\r\nb\r\nc', o), '--- x\n+++ x\n@@ -1,2 +1,4 @@\n x\n a\n+b\n+c\n\\ No newline at end of file\n', 'CRLF files too')
  t.equal(unifiedDiff('a\nb', 'a\nc', o), '--- x\n+++ x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n', 'a changed last line')
  t.equal(unifiedDiff('a\nb', 'a', o), '--- x\n+++ x\n@@ -1,2 +1 @@\n-a\n-b\n\\ No newline at end of file\n+a\n\\ No newline at end of file\n', 'a removed last line: what diff(1) shows')
  t.equal(unifiedDiff('a', 'a\n', o), '--- x\n+++ x\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n', 'a newline added is a change')
  t.equal(unifiedDiff('a\n', 'a', o), '--- x\n+++ x\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n', 'a newline removed is a change')
  t.equal(unifiedDiff('a\nb\nc', 'A\nb\nc', o), '--- x\n+++ x\n@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n\\ No newline at end of file\n', 'an unchanged last line keeps its marker')
})

t.test('huge rewrites fall back to remove-all/add-all and stay correct', async t => {
  const a = Array.from({ length: 3000 }, (_, i) => `a${i}\n`)
  const b = Array.from({ length: 3000 }, (_, i) => `b${i}\n`)
  const ops = diffLines(a, b)
  t.equal(ops.length, 6000)
  t.same(apply(a, b), b)
})
