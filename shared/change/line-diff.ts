// A line diff (Myers' O(ND) algorithm) and its unified rendering, for plans. Lines are compared
// with their line endings, as diff(1) does, so a changed line ending is a changed line. One
// exception, for the reader: when neither text ends with a newline, lines added after the last
// one do not show that last line as changed (diff(1) would, because it gained a line break); the
// diff then shows only the added lines and says once that the file still ends without a newline.

/** One step of an edit script: keep old line `a` (= new line `b`), delete old line `a`, insert new line `b`. */
export type DiffOp =
  | { readonly kind: 'equal', readonly a: number, readonly b: number }
  | { readonly kind: 'delete', readonly a: number }
  | { readonly kind: 'insert', readonly b: number }

// Above this many differing lines (after trimming the common head and tail) the trace would cost
// O(D²) memory; such a diff is shown as "all removed, all added", which is still correct.
const MAX_MYERS_LINES = 4000

/** The lines of `text`, each with its line ending ("\n" or "\r\n"); the last may have none. */
export function splitLines (text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? []
}

/** A shortest edit script turning `a` into `b`. */
export function diffLines (a: readonly string[], b: readonly string[]): DiffOp[] {
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
  const ops: DiffOp[] = []
  for (let i = 0; i < head; i++) ops.push({ kind: 'equal', a: i, b: i })
  const midA = a.slice(head, a.length - tail)
  const midB = b.slice(head, b.length - tail)
  const mid = midA.length + midB.length > MAX_MYERS_LINES
    ? [...midA.map((_, i): DiffOp => ({ kind: 'delete', a: i })), ...midB.map((_, i): DiffOp => ({ kind: 'insert', b: i }))]
    : myers(midA, midB)
  for (const op of mid) {
    if (op.kind === 'equal') ops.push({ kind: 'equal', a: op.a + head, b: op.b + head })
    else if (op.kind === 'delete') ops.push({ kind: 'delete', a: op.a + head })
    else ops.push({ kind: 'insert', b: op.b + head })
  }
  for (let i = 0; i < tail; i++) ops.push({ kind: 'equal', a: a.length - tail + i, b: b.length - tail + i })
  return ops
}

function myers (a: readonly string[], b: readonly string[]): DiffOp[] {
  const n = a.length
  const m = b.length
  const max = n + m
  const off = max + 1
  const v = new Int32Array(2 * max + 3)
  const trace: Int32Array[] = []
  let done = false
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice())
    for (let k = -d; k <= d && !done; k += 2) {
      let x = k === -d || (k !== d && (v[k - 1 + off] ?? 0) < (v[k + 1 + off] ?? 0)) ? (v[k + 1 + off] ?? 0) : (v[k - 1 + off] ?? 0) + 1
      let y = x - k
      while (x < n && y < m && a[x] === b[y]) { x++; y++ }
      v[k + off] = x
      done = x >= n && y >= m
    }
  }
  const ops: DiffOp[] = []
  let x = n
  let y = m
  for (let d = trace.length - 1; d >= 0; d--) {
    const t = trace[d] ?? v
    const k = x - y
    const prevK = k === -d || (k !== d && (t[k - 1 + off] ?? 0) < (t[k + 1 + off] ?? 0)) ? k + 1 : k - 1
    const prevX = t[prevK + off] ?? 0
    const prevY = prevX - prevK
    while (x > prevX && y > prevY) { ops.push({ kind: 'equal', a: x - 1, b: y - 1 }); x--; y-- }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: 'insert', b: y - 1 })
      else ops.push({ kind: 'delete', a: x - 1 })
    }
    x = prevX
    y = prevY
  }
  return ops.reverse()
}

/** Options for {@link unifiedDiff}. */
export interface UnifiedDiffOptions {
  /** Name shown after `---`. */
  readonly oldLabel: string
  /** Name shown after `+++`. */
  readonly newLabel: string
  /** Unchanged lines around each change (default 3). */
  readonly context?: number
  /** Applied to each line's text before it is printed (redaction). */
  readonly mapLine?: (line: string) => string
}

/** A unified diff of two texts, or '' when they are equal. Ends with a newline when not empty. */
export function unifiedDiff (oldText: string, newText: string, opts: UnifiedDiffOptions): string {
  if (oldText === newText) return ''
  const a = splitLines(oldText)
  const b = splitLines(newText)
  const ops = diffOf(oldText, newText, a, b)
  const context = opts.context ?? 3
  const map = opts.mapLine ?? ((l: string) => l)
  const changed = ops.map((op, i) => op.kind === 'equal' ? -1 : i).filter(i => i >= 0)
  if (changed.length === 0) return '' // only possible when texts differ in nothing diff sees
  // Group changes whose context would touch into hunks.
  const hunks: Array<[number, number]> = []
  for (const i of changed) {
    const last = hunks.at(-1)
    if (last !== undefined && i - last[1] <= 2 * context + 1) last[1] = i
    else hunks.push([i, i])
  }
  const out = [`--- ${opts.oldLabel}`, `+++ ${opts.newLabel}`]
  for (const [first, last] of hunks) {
    const from = Math.max(0, first - context)
    const to = Math.min(ops.length - 1, last + context)
    const slice = ops.slice(from, to + 1)
    const aStart = firstIndex(ops, from, 'a')
    const bStart = firstIndex(ops, from, 'b')
    const aCount = slice.filter(o => o.kind !== 'insert').length
    const bCount = slice.filter(o => o.kind !== 'delete').length
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`)
    for (const op of slice) {
      const line = op.kind === 'insert' ? b[op.b] ?? '' : a[op.a] ?? ''
      const mark = op.kind === 'equal' ? ' ' : op.kind === 'delete' ? '-' : '+'
      out.push(mark + map(line.replace(/\r?\n$/, '')))
      // An unchanged line counts as ending the file only when it ends both texts (see diffOf).
      const endsFile = op.kind !== 'equal' || (op.a === a.length - 1 && op.b === b.length - 1)
      if (endsFile && !line.endsWith('\n')) out.push('\\ No newline at end of file')
    }
  }
  return out.join('\n') + '\n'
}

// The edit script. When both texts lack a final newline, each one's last line is compared as if
// it had a line ending, so the old last line gaining a line break because lines were added after
// it is no change. That view is kept only when the old last line survives as an unchanged line;
// otherwise (it was removed or changed) the plain comparison shows honestly what happened.
function diffOf (oldText: string, newText: string, a: string[], b: string[]): DiffOp[] {
  const plain = (): DiffOp[] => diffLines(a, b)
  if (oldText.endsWith('\n') || newText.endsWith('\n') || oldText === '' || newText === '') return plain()
  const eol = (/\r?\n$/.exec(a.at(-2) ?? b.at(-2) ?? '') ?? ['\n'])[0]
  const close = (lines: string[]): string[] => [...lines.slice(0, -1), `${lines.at(-1) ?? ''}${eol}`]
  const ops = diffLines(close(a), close(b))
  const lastKept = ops.some(op => op.kind === 'equal' && op.a === a.length - 1)
  return lastKept ? ops : plain()
}

// 0-based index into the old (a) or new (b) text where the hunk starting at ops[from] begins.
function firstIndex (ops: readonly DiffOp[], from: number, side: 'a' | 'b'): number {
  let n = 0
  for (let i = 0; i < from; i++) {
    const op = ops[i]
    if (op === undefined) continue
    if (side === 'a' ? op.kind !== 'insert' : op.kind !== 'delete') n++
  }
  return n
}

// GNU diff's hunk ranges: `start,count` with 1-based start; an empty range names the line before it.
function range (start0: number, count: number): string {
  if (count === 0) return `${start0},0`
  return count === 1 ? `${start0 + 1}` : `${start0 + 1},${count}`
}
