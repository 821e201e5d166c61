// Text splicing primitives of the YAML editor (yaml-edit.ts): each takes the current text and a
// node of its freshly parsed Document and returns the new text, touching only whole lines (or one
// value inside a line) so every other byte stays as it was.
import { isAlias, isMap, isScalar, isSeq, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml'
import { YamlUnsupportedError } from './errors.js'
import { hasAliases } from './yaml-document.js'
import { endsWithNewline, lineAt, lineStartAt, nextLineStart } from './text-lines.js'
import { isPlainMap, type YamlValue } from './yaml-model.js'
import { renderFlow, renderPairLines, renderValueAfterKey, type RenderHint, type YamlStyle } from './yaml-render.js'

/** The text being edited, its parsed document and style, and the change path (for messages). */
export interface SpliceContext {
  readonly text: string
  readonly doc: Document.Parsed
  readonly style: YamlStyle
  readonly eol: string
  readonly path: string
}

/** Replace `start`..`end` of the original text with `insert`. */
export interface Splice { start: number, end: number, insert: string }

/** Inserts `key: value` as the last entry of a block mapping. */
export function insertPair (ctx: SpliceContext, map: YAMLMap, key: string, value: YamlValue): string {
  return applySplices(ctx.text, [insertPairsSplice(ctx, map, [[key, value]])])
}

/** The splice inserting `key: value` pairs, in order, after the last entry of a block mapping. */
export function insertPairsSplice (ctx: SpliceContext, map: YAMLMap, pairs: ReadonlyArray<readonly [string, YamlValue]>): Splice {
  const column = keyColumn(ctx, map.items[0] ?? fail(ctx, 'an empty block mapping'))
  const last = map.items.at(-1) ?? fail(ctx, 'an empty block mapping')
  let pos = nextLineStart(ctx.text, pairValueEnd(ctx.text, last))
  pos = skipIndentedComments(ctx.text, pos, column)
  return linesSplice(ctx, pos, pairs.flatMap(([k, v]) => renderPairLines(k, v, column, ctx.style)))
}

/** Replaces the value of an existing pair, keeping the key, its line and its comment. */
export function replaceValue (ctx: SpliceContext, pair: Pair, value: YamlValue): string {
  refuseAnchorsInside(ctx, pair.value)
  return applySplices(ctx.text, replaceValueSplices(ctx, pair, value))
}

/** The splices of {@link replaceValue}, in original offsets. */
export function replaceValueSplices (ctx: SpliceContext, pair: Pair, value: YamlValue): Splice[] {
  const { text, eol } = ctx
  const column = keyColumn(ctx, pair)
  const colonEnd = colonEndOf(ctx, pair)
  const old = pair.value
  const { inline, block } = renderValueAfterKey(value, column, ctx.style, hintFrom(text, old, value))
  const splices: Splice[] = []
  const blockText = (atEof: boolean): string => atEof ? block.map(l => eol + l).join('') : block.map(l => l + eol).join('')
  if (!isNodeWithText(old)) {
    splices.push({ start: colonEnd, end: colonEnd, insert: inline })
    const at = nextLineStart(text, colonEnd)
    splices.push({ start: at, end: at, insert: blockText(at === text.length && !endsWithNewline(text)) })
  } else if (!text.slice(colonEnd, old.range[0]).includes('\n')) {
    const end = old.range[1]
    if (text[end - 1] === '\n') {
      // A block scalar: its range runs to the end of its last line.
      splices.push({ start: colonEnd, end, insert: [inline, ...block].join(eol) + eol })
    } else if (block.length === 0 && inline.startsWith(' ')) {
      // One inline value for another: the spacing after the colon stays as it was.
      splices.push({ start: old.range[0], end, insert: inline.slice(1) })
    } else {
      splices.push({ start: colonEnd, end, insert: inline })
      const at = nextLineStart(text, end)
      splices.push({ start: at, end: at, insert: blockText(at === text.length && !endsWithNewline(text)) })
    }
  } else {
    splices.push({ start: colonEnd, end: colonEnd, insert: inline })
    let start = lineStartAt(text, old.range[0])
    const end = skipIndentedComments(text, nextLineStart(text, textEnd(text, old.range[1])), column + 1)
    const atEof = end === text.length && !endsWithNewline(text)
    if (atEof && block.length === 0) start = Math.max(colonEnd, start - eol.length)
    splices.push({ start, end, insert: atEof ? block.join(eol) : block.map(l => l + eol).join('') })
  }
  return splices
}

/** Removes a pair's lines from a block mapping: key line, value lines, comments indented under it. */
export function removePair (ctx: SpliceContext, pair: Pair): string {
  refuseAnchorsInside(ctx, pair.value)
  return applySplices(ctx.text, [removePairSplice(ctx, pair)])
}

/** The splice of {@link removePair}. */
export function removePairSplice (ctx: SpliceContext, pair: Pair): Splice {
  const { text } = ctx
  const column = keyColumn(ctx, pair)
  let start = lineStartAt(text, rangeOf(pair.key)[0])
  const end = skipIndentedComments(text, nextLineStart(text, pairValueEnd(text, pair)), column + 1)
  // Keep "no newline at end of file" when the last line goes: drop the line break before it instead.
  if (end === text.length && !endsWithNewline(text) && start > 0) start -= text[start - 2] === '\r' ? 2 : 1
  return { start, end, insert: '' }
}

/** Re-renders a flow mapping after `mutate` changed its plain value. */
export function rewriteFlow (ctx: SpliceContext, map: YAMLMap, mutate: (js: Record<string, unknown>) => void): string {
  refuseAnchorsInside(ctx, map)
  const js = toJs(ctx.doc, map)
  const plain: Record<string, unknown> = isPlainMap(js) ? js : {}
  mutate(plain)
  const [start, end] = rangeOf(map)
  const padding = /^[{[] /.test(ctx.text.slice(start, end))
  return applySplices(ctx.text, [{ start, end, insert: renderFlow(plain as YamlValue, padding) }])
}

/** Inserts whole lines at `pos` (a line start, or the end of a text without a final newline). */
export function appendLines (ctx: SpliceContext, pos: number, lines: readonly string[]): string {
  return applySplices(ctx.text, [linesSplice(ctx, pos, lines)])
}

function linesSplice (ctx: SpliceContext, pos: number, lines: readonly string[]): Splice {
  const { text, eol } = ctx
  const insert = pos === text.length && !endsWithNewline(text)
    ? lines.map(l => eol + l).join('')
    : lines.map(l => l + eol).join('')
  return { start: pos, end: pos, insert }
}

// Comment lines right after an entry that are indented at least `column` deep still belong to it
// (commented-out settings, notes): new entries go after them, deletions take them along. A blank
// line or anything else ends the run.
function skipIndentedComments (text: string, pos: number, column: number): number {
  let p = pos
  while (p < text.length) {
    const lf = text.indexOf('\n', p)
    const lineEnd = lf === -1 ? text.length : lf + 1
    const m = /^([ \t]*)#/.exec(text.slice(p, lineEnd))
    if (m === null || (m[1] ?? '').length < column) break
    p = lineEnd
  }
  return p
}

/**
 * Applies splices given in original offsets. They never overlap; applied from the end so earlier
 * offsets stay valid, and at one offset the removal goes first so an insertion there is kept.
 */
export function applySplices (text: string, splices: readonly Splice[]): string {
  let out = text
  for (const s of [...splices].sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, s.start) + s.insert + out.slice(s.end)
  return out
}

/**
 * Applies many splices in one pass (linear in the text and the splices). Insertions at one
 * offset keep the order they were given in; returns undefined when two ranges overlap.
 */
export function applySplicesInOrder (text: string, splices: readonly Splice[]): string | undefined {
  const sorted = splices.map((s, i) => ({ s, i })).sort((a, b) => a.s.start - b.s.start || (a.s.end - a.s.start) - (b.s.end - b.s.start) || a.i - b.i)
  const parts: string[] = []
  let at = 0
  for (const { s } of sorted) {
    if (s.start < at) return undefined
    parts.push(text.slice(at, s.start), s.insert)
    at = s.end
  }
  parts.push(text.slice(at))
  return parts.join('')
}

function keyColumn (ctx: SpliceContext, pair: Pair): number {
  const start = rangeOf(pair.key)[0]
  const lineStart = lineStartAt(ctx.text, start)
  const before = ctx.text.slice(lineStart, start)
  if (!/^[ \t]*$/.test(before)) {
    const reason = /^[ \t]*\?[ \t]*$/.test(before) ? 'explicit keys (`? key`) are not supported' : 'the key does not start its line'
    throw new YamlUnsupportedError(ctx.path, reason, lineAt(ctx.text, start))
  }
  return start - lineStart
}

function colonEndOf (ctx: SpliceContext, pair: Pair): number {
  const keyEnd = rangeOf(pair.key)[1]
  const m = /^[ \t]*:/.exec(ctx.text.slice(keyEnd))
  if (m === null) throw new YamlUnsupportedError(ctx.path, 'explicit keys (`? key`) are not supported', lineAt(ctx.text, keyEnd))
  return keyEnd + m[0].length
}

function pairValueEnd (text: string, pair: Pair): number {
  return isNodeWithText(pair.value) ? textEnd(text, pair.value.range[1]) : rangeOf(pair.key)[1]
}

// yaml ends a block collection whose last lines are comments (`# retry: 3` closing a nested
// mapping) after the indentation of the line that follows it (`  minio:`). Taken as it is, the
// "end of the value's last line" was that next line: removing the block took `minio:` along, and
// keys added after it landed below `minio:`. An end inside a line's leading blanks is that line's start.
function textEnd (text: string, end: number): number {
  const start = lineStartAt(text, end)
  return /^[ \t]+$/.test(text.slice(start, end)) ? start : end
}

/**
 * How the value being replaced looks (quote style, flow), so its replacement can look the same.
 * An empty flow mapping (`hsm: {}`) is a placeholder for a section, not a choice of style: a
 * mapping that fills it is written in block style under its key, as a person would write it.
 */
export function hintFrom (text: string, old: unknown, value?: YamlValue): RenderHint {
  if (isScalar(old) && (old.type === 'QUOTE_DOUBLE' || old.type === 'QUOTE_SINGLE')) return { scalarType: old.type }
  if (isMap(old) && old.flow === true && old.items.length === 0 && isPlainMap(value) && Object.keys(value).length > 0) return {}
  if ((isMap(old) || isSeq(old)) && old.flow === true) {
    const [start, end] = rangeOf(old)
    return { flow: true, flowPadding: /^[{[] /.test(text.slice(start, end)) }
  }
  return {}
}

/** True for a node that occupies source text (an empty `key:` value does not). */
export function isNodeWithText (node: unknown): node is Node & { range: [number, number, number] } {
  if (node === null || node === undefined) return false
  const range = (node as Node).range
  return range != null && range[1] > range[0]
}

/** The source range of a parsed node; throws for nodes built in memory. */
export function rangeOf (node: unknown): [number, number, number] {
  const range = (node as Node | null)?.range
  if (range == null) throw new Error('node without a source range')
  return range
}

/** The plain value of a node (null for none), aliases resolved. */
export function toJs (doc: Document, node: unknown): unknown {
  if (node === null || node === undefined) return null
  if (isAlias(node) || isMap(node) || isSeq(node) || isScalar(node)) return node.toJS(doc)
  return null
}

// Text that is replaced, removed or re-rendered loses the anchors written in it. The editor checks
// anchors on the edited path, but one deeper inside (`hsm:` deleted, `vault: &v` below it, `other:
// *v` elsewhere) left an alias without its anchor: the result did not even read back, and the
// apply failed with an uncoded 500. Refused like an anchor on the path, naming the anchor's line.
function refuseAnchorsInside (ctx: SpliceContext, node: unknown): void {
  if (!(isMap(node) || isSeq(node) || isScalar(node)) || !hasAliases(ctx.doc)) return
  let found: Node | undefined
  if (node.anchor !== undefined) found = node
  else {
    visit(node, {
      Node (_k, n) {
        if ((isMap(n) || isSeq(n) || isScalar(n)) && n.anchor !== undefined) { found = n; return visit.BREAK }
        return undefined
      }
    })
  }
  if (found === undefined) return
  const anchor = (found as { anchor?: string }).anchor ?? ''
  // A mapping's range starts at its first entry; `&name` is written before it (`vault: &v`).
  const start = rangeOf(found)[0]
  const written = ctx.text.lastIndexOf(`&${anchor}`, start)
  throw new YamlUnsupportedError(ctx.path, `the edit would replace or remove the anchor &${anchor} that aliases elsewhere refer to`, lineAt(ctx.text, written === -1 ? start : written))
}

function fail (ctx: SpliceContext, what: string): never {
  throw new YamlUnsupportedError(ctx.path, what, 1)
}
