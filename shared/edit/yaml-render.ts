// Rendering new YAML text for values the editor inserts, in the file's own style: its indentation
// step, whether sequences are indented under their key, and its line ending. The `yaml` package
// does the rendering, so quoting, escaping and block scalars are always valid YAML.
import { Document, isMap, isScalar, isSeq, visit, type Scalar } from 'yaml'
import { lineStartAt } from './text-lines.js'
import type { YamlValue } from './yaml-model.js'

/** Formatting choices read from an existing file. */
export interface YamlStyle {
  /** Spaces per nesting level (2 unless the file shows otherwise). */
  readonly indent: number
  /** True when block sequences are indented under their key (`key:\n  - a`), false for `key:\n- a`. */
  readonly indentSeq: boolean
}

/** How an existing value looked, so a replacement can look the same. */
export interface RenderHint {
  /** Quote style of the string being replaced. */
  readonly scalarType?: Scalar.Type
  /** True when the replaced collection was written in flow style (`[a, b]`, `{a: 1}`). */
  readonly flow?: boolean
  /** True when that flow collection had spaces inside its brackets (`[ a ]`). */
  readonly flowPadding?: boolean
}

/** Reads the indentation step and sequence indentation of `doc` from its first nested block collections. */
export function detectYamlStyle (doc: Document, text: string): YamlStyle {
  let indent: number | undefined
  let indentSeq: boolean | undefined
  const column = (pos: number): number => pos - lineStartAt(text, pos)
  visit(doc, {
    Pair (_key, pair) {
      const key = pair.key
      const value = pair.value
      if (!isScalar(key) || key.range == null) return
      if (indent === undefined && isMap(value) && value.flow !== true) {
        const child = value.items[0]?.key
        if (isScalar(child) && child.range != null) {
          const step = column(child.range[0]) - column(key.range[0])
          if (step >= 1 && step <= 8) indent = step
        }
      }
      if (indentSeq === undefined && isSeq(value) && value.flow !== true && value.range != null) {
        indentSeq = column(value.range[0]) > column(key.range[0])
      }
      if (indent !== undefined && indentSeq !== undefined) return visit.BREAK
    }
  })
  return { indent: indent ?? 2, indentSeq: indentSeq ?? true }
}

/**
 * The lines (without line endings) of `key: value` indented by `at` spaces. Blank lines inside
 * block scalars stay empty rather than carrying trailing spaces.
 */
export function renderPairLines (key: string, value: YamlValue, at: number, style: YamlStyle, hint: RenderHint = {}): string[] {
  const doc = new Document({ [key]: value })
  const pairValue = isMap(doc.contents) ? doc.contents.items[0]?.value : undefined
  if (hint.scalarType !== undefined && isScalar(pairValue) && typeof value === 'string' && !value.includes('\n')) {
    pairValue.type = hint.scalarType
  }
  if (hint.flow === true && (isMap(pairValue) || isSeq(pairValue))) {
    visit(pairValue, { Map (_k, n) { n.flow = true }, Seq (_k, n) { n.flow = true } })
  }
  const out = doc.toString({
    indent: style.indent,
    indentSeq: style.indentSeq,
    lineWidth: 0,
    minContentWidth: 0,
    flowCollectionPadding: hint.flowPadding ?? true
  })
  const pad = ' '.repeat(at)
  return out.replace(/\n$/, '').split('\n').map(line => line === '' ? '' : pad + line)
}

/** Renders `value` after an existing key: the text that follows the colon on the key line, and the lines below it. */
export function renderValueAfterKey (value: YamlValue, keyColumn: number, style: YamlStyle, hint: RenderHint = {}): { inline: string, block: string[] } {
  const [first = '', ...block] = renderPairLines('x', value, keyColumn, style, hint)
  return { inline: first.slice(keyColumn + 'x:'.length), block }
}

/** A value as a one-line flow collection or scalar (`{ a: 1, b: [ x ] }`), for edits inside flow collections. */
export function renderFlow (value: YamlValue, padding: boolean): string {
  const doc = new Document(value)
  visit(doc, { Map (_k, n) { n.flow = true }, Seq (_k, n) { n.flow = true } })
  return doc.toString({ lineWidth: 0, minContentWidth: 0, flowCollectionPadding: padding }).replace(/\n$/, '')
}

/**
 * A scalar as it must be written inside a flow collection (quoted when it holds `,`, `[`, `{`,
 * …), keeping the quote style of the scalar it replaces when that is a string.
 */
export function renderFlowItem (value: YamlValue, hint: RenderHint = {}): string {
  const doc = new Document([value])
  const seq = doc.contents
  if (isSeq(seq)) {
    seq.flow = true
    const item = seq.items[0]
    if (hint.scalarType !== undefined && isScalar(item) && typeof value === 'string' && !value.includes('\n')) item.type = hint.scalarType
  }
  // `[ item ]` without padding is `[item]`; the brackets come off.
  return doc.toString({ lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false }).replace(/\n$/, '').slice(1, -1)
}
