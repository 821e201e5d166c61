// Editing a YAML config at dotted paths without disturbing anything else in it.
//
// Strategy: the `yaml` package parses the text into a Document whose nodes carry source ranges;
// the editor never re-serialises the document (that would normalise indentation, quoting, blank
// lines and comment placement) but splices the original text at those ranges, line by line, with
// new text rendered by `yaml` in the file's own style (yaml-render.ts). Every byte outside the
// spliced ranges stays as it was. Each primitive step re-parses the text it works on, so ranges are
// never stale. Finally the result is parsed again and compared with the intended meaning
// (yaml-model.ts); a mismatch throws instead of returning a wrong file.
//
// Rules:
// - set: creates missing parents (a missing or null parent becomes a mapping); a new key goes after
//   the last key of its mapping (and after comment lines indented under that key), so adding a
//   section adds lines and changes none. Setting a mapping over a mapping edits key by key, so
//   unchanged keys keep their comments and formatting. A replaced string keeps its quote style,
//   a replaced flow collection stays flow. Setting an equal value changes nothing.
// - delete: removes the key's lines (its value, and comment lines indented under it); a missing
//   path is a no-op. Mappings the deletion leaves empty are removed too, so deleting what a set
//   added restores the original text.
// - Refused: paths through a scalar, sequence or alias (YamlPathBlockedError); anchored nodes on
//   the path of a document that uses aliases, text holding such an anchor that an edit would
//   replace, remove or re-render, explicit (`? key`) keys (YamlUnsupportedError).
// - Inside flow collections (`{ a: 1 }`) a scalar replaced by a scalar is spliced in place; any
//   other edit re-renders the innermost flow collection on the path as a whole (its spacing and
//   quoting normalised, comments inside it lost). Exception: an empty flow mapping that is the
//   value of a block mapping's key (`hsm: {}   # note`) is a placeholder; what fills it is written
//   in block style under the key, and the comment after it stays on the key's line.
import { isMap, isScalar, isSeq, type Document, type Pair, type YAMLMap } from 'yaml'
import { batchSet } from './yaml-batch.js'
import { parseDottedPath, formatDottedPath } from './dotted-path.js'
import { YamlEditMismatchError, YamlNotAMappingError, YamlPathBlockedError, YamlUnsupportedError } from './errors.js'
import { describeNode, hasAliases, keyName, parseYamlDocument } from './yaml-document.js'
import { deepEqual, deletePlain, isPlainMap, nest, setPlain, type YamlValue } from './yaml-model.js'
import { detectYamlStyle, renderFlowItem, renderPairLines } from './yaml-render.js'
import { eolOf, lineAt } from './text-lines.js'
import {
  applySplices, appendLines, hintFrom, insertPair, isNodeWithText, rangeOf, removePair, replaceValue, rewriteFlow, toJs, type SpliceContext
} from './yaml-splice.js'

const BOM = '\uFEFF'

/** What to change in a YAML file. Deletes run first, then sets, each in the given order. */
export interface YamlEdit {
  /** Values to put at dotted paths (dotted-path.ts syntax). */
  readonly set?: Readonly<Record<string, YamlValue>>
  /** Dotted paths to remove. */
  readonly delete?: readonly string[]
}

/**
 * Applies `edit` to the YAML `text` and returns the new text, or `text` itself (the same string)
 * when nothing changes. Throws InvalidPathError, YamlParseError, YamlMultipleDocumentsError,
 * YamlNotAMappingError, YamlPathBlockedError, YamlUnsupportedError; YamlEditMismatchError means
 * an editor bug was caught before it could write a wrong file.
 */
export function editYaml (text: string, edit: YamlEdit): string {
  // A UTF-8 byte order mark (files saved by some Windows editors) is no part of line 1: yaml skips
  // it, but the splicing would see the first key one column in ("does not start its line") and a
  // deletion of line 1 would take the mark along. The text after it is edited; the mark stays.
  if (text.startsWith(BOM)) {
    const rest = text.slice(BOM.length)
    const out = editYaml(rest, edit)
    return out === rest ? text : BOM + out
  }
  const deletes = (edit.delete ?? []).map(p => ({ path: p, segments: parseDottedPath(p) }))
  const sets = Object.entries(edit.set ?? {}).map(([p, value]) => ({ path: p, segments: parseDottedPath(p), value }))
  const before = parseYamlDocument(text)
  rootMap(before)
  let out = text
  for (const d of deletes) out = deleteAt(out, d.segments, d.path, true)
  const batched = sets.length > 1 ? batchSet(context(out, sets[0]?.path ?? ''), sets) : undefined
  if (batched !== undefined) out = batched
  else for (const s of sets) out = setAt(out, s.segments, s.value, s.path)
  if (out === text) return text
  verify(before, out, deletes, sets)
  return out
}

/** Where a path leads in the current document. */
type Location =
  | { kind: 'empty-document' }
  | { kind: 'missing', map: YAMLMap, index: number, chain: Step[] }
  | { kind: 'null', pair: Pair, map: YAMLMap, index: number, chain: Step[] }
  | { kind: 'exists', pair: Pair, map: YAMLMap, chain: Step[] }

/** One mapping on the way down and the pair taken in it. */
interface Step { map: YAMLMap, pair: Pair }

function context (text: string, path: string): SpliceContext {
  const doc = parseYamlDocument(text)
  return { text, doc, style: detectYamlStyle(doc, text), eol: eolOf(text), path }
}

function rootMap (doc: Document.Parsed): YAMLMap | null {
  const root = doc.contents
  if (root === null || (isScalar(root) && root.value === null && root.range[0] === root.range[1])) return null
  if (!isMap(root)) throw new YamlNotAMappingError(describeNode(root))
  return root
}

function locate (ctx: SpliceContext, segments: readonly string[]): Location {
  const root = rootMap(ctx.doc)
  if (root === null) return { kind: 'empty-document' }
  const aliases = hasAliases(ctx.doc)
  const chain: Step[] = []
  let map: YAMLMap = root
  for (let i = 0; i < segments.length; i++) {
    if (aliases && map.anchor !== undefined) {
      // The line of the key holding the mapping (`hsm: &hsm`), where the anchor is written; the
      // mapping's own range starts at its first entry, a line below.
      const where = chain.at(-1)?.pair.key ?? map
      throw new YamlUnsupportedError(ctx.path, `${prefix(segments, i) || 'the root'} carries the anchor &${map.anchor} that aliases refer to`, lineAt(ctx.text, rangeOf(where)[0]))
    }
    const pair = map.items.find(p => keyName(p.key) === segments[i])
    if (pair === undefined) return { kind: 'missing', map, index: i, chain }
    chain.push({ map, pair })
    const value = pair.value
    if (i === segments.length - 1) {
      if (aliases && isAnchored(value)) {
        throw new YamlUnsupportedError(ctx.path, `${prefix(segments, i + 1)} carries an anchor that aliases refer to`, lineAt(ctx.text, rangeOf(value)[0]))
      }
      return { kind: 'exists', pair, map, chain }
    }
    if (isMap(value)) { map = value; continue }
    if (value === null || (isScalar(value) && value.value === null)) return { kind: 'null', pair, map, index: i, chain }
    throw new YamlPathBlockedError(ctx.path, prefix(segments, i + 1), describeNode(value), lineAt(ctx.text, rangeOf(value)[0]))
  }
  throw new Error('unreachable: a path has at least one segment')
}

function setAt (text: string, segments: readonly string[], value: YamlValue, path: string): string {
  const ctx = context(text, path)
  const loc = locate(ctx, segments)
  switch (loc.kind) {
    case 'empty-document':
      return appendLines(ctx, text.length, renderPairLines(first(segments), nest(segments.slice(1), value), 0, ctx.style))
    case 'missing': {
      const holder = loc.chain.at(-1)
      if (loc.map.flow === true && loc.map.items.length === 0 && holder !== undefined && holder.map.flow !== true) {
        // `key: {}` under a block mapping: the new section replaces the `{}` in block style.
        return replaceValue(ctx, holder.pair, nest(segments.slice(loc.index), value))
      }
      if (loc.map.flow === true) return rewriteFlow(ctx, loc.map, js => setPlain(js, segments.slice(loc.index), value))
      return insertPair(ctx, loc.map, segments[loc.index] ?? '', nest(segments.slice(loc.index + 1), value))
    }
    case 'null':
      if (loc.map.flow === true) return rewriteFlow(ctx, loc.map, js => setPlain(js, segments.slice(loc.index), value))
      return replaceValue(ctx, loc.pair, nest(segments.slice(loc.index + 1), value))
    case 'exists': {
      const old = loc.pair.value
      if (deepEqual(toJs(ctx.doc, old), value)) return text
      if (loc.map.flow === true) {
        if (isScalar(old) && isNodeWithText(old) && !isCollectionValue(value)) {
          return applySplices(text, [{ start: old.range[0], end: old.range[1], insert: renderFlowItem(value as YamlValue, hintFrom(text, old)) }])
        }
        return rewriteFlow(ctx, loc.map, js => setPlain(js, segments.slice(-1), value))
      }
      if (isMap(old) && old.flow !== true && isPlainMap(value) && Object.keys(value).length > 0) {
        return mergeMap(text, segments, old, value, path)
      }
      return replaceValue(ctx, loc.pair, value)
    }
  }
}

// A mapping set over a mapping: new and changed keys first, then removed keys, so the mapping is
// never empty in between; untouched keys keep their bytes.
function mergeMap (text: string, segments: readonly string[], old: YAMLMap, value: { readonly [key: string]: YamlValue }, path: string): string {
  const oldKeys = old.items.map(p => keyName(p.key))
  let out = text
  for (const [k, v] of Object.entries(value)) out = setAt(out, [...segments, k], v, path)
  for (const k of oldKeys) {
    if (k !== undefined && !Object.hasOwn(value, k)) out = deleteAt(out, [...segments, k], path, false)
  }
  return out
}

function deleteAt (text: string, segments: readonly string[], path: string, prune: boolean): string {
  const ctx = context(text, path)
  const loc = locate(ctx, segments)
  if (loc.kind !== 'exists') return text
  let j = loc.chain.length - 1
  // Climb while the mapping would be left empty (never past the root mapping).
  if (prune) while (j > 0 && loc.chain[j]?.map.items.length === 1) j--
  const step = loc.chain[j]
  if (step === undefined) return text
  if (step.map.flow === true) {
    const key = segments[j] ?? ''
    return rewriteFlow(ctx, step.map, js => { delete js[key] })
  }
  return removePair(ctx, step.pair)
}

function isCollectionValue (v: YamlValue): boolean {
  return typeof v === 'object' && v !== null
}

function isAnchored (node: unknown): boolean {
  return (isMap(node) || isSeq(node) || isScalar(node)) && node.anchor !== undefined
}

function prefix (segments: readonly string[], n: number): string {
  return n === 0 ? '' : formatDottedPath(segments.slice(0, n))
}

function first (segments: readonly string[]): string {
  return segments[0] ?? ''
}

// The editor's own check: the new text is one valid document and means exactly the old document
// with the change applied. Anything else is a bug in the splicing, caught before a write.
function verify (before: Document.Parsed, out: string, deletes: ReadonlyArray<{ segments: readonly string[] }>, sets: ReadonlyArray<{ segments: readonly string[], value: YamlValue }>): void {
  let after: Document.Parsed
  try {
    after = parseYamlDocument(out)
  } catch (err) {
    throw new YamlEditMismatchError(`the edited text does not parse (${(err as Error).message})`)
  }
  const expected = plainRoot(before.toJS())
  for (const d of deletes) deletePlain(expected, d.segments, true)
  for (const s of sets) setPlain(expected, s.segments, s.value)
  const actual = plainRoot(after.toJS())
  if (!deepEqual(actual, expected)) throw new YamlEditMismatchError('the edited text does not hold the requested values')
}

function plainRoot (js: unknown): Record<string, unknown> {
  return isPlainMap(js) ? structuredClone(js) : {}
}
