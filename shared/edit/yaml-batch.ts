// Many sets in one pass over one parse, so that a change setting n keys costs time linear in n and
// in the file's size (yaml-edit.ts otherwise re-parses the text once per key). The sets are
// merged into a tree of paths and walked together with the document: a missing key becomes one
// inserted block (all its new children rendered together), an existing value is replaced, an
// existing block mapping is descended into. Splices are computed against the one parse and applied
// together. Anything outside that simple shape (flow collections, an empty document, aliases, a
// path through a scalar, a mapping set over a mapping) returns undefined and the caller edits key
// by key; the caller's meaning check runs on the result either way.
import { isMap, isScalar, type Pair, type YAMLMap } from 'yaml'
import { hasAliases, keyName } from './yaml-document.js'
import { deepEqual, defineKey, isPlainMap, type YamlValue } from './yaml-model.js'
import { applySplicesInOrder, insertPairsSplice, replaceValueSplices, toJs, type Splice, type SpliceContext } from './yaml-splice.js'

/** One node of the tree of set paths: a value to set, or children (never both). */
interface PathTree { value?: { v: YamlValue }, children: Map<string, PathTree> }

/** The sets applied in one pass, or undefined when their shape needs the key-by-key editor. */
export function batchSet (ctx: SpliceContext, sets: ReadonlyArray<{ segments: readonly string[], value: YamlValue }>): string | undefined {
  const root = ctx.doc.contents
  if (!isMap(root) || root.flow === true || root.items.length === 0 || hasAliases(ctx.doc)) return undefined
  const tree: PathTree = { children: new Map() }
  for (const s of sets) {
    let node = tree
    for (const seg of s.segments) {
      if (node.value !== undefined) return undefined // overlapping paths: key by key, in order
      let next = node.children.get(seg)
      if (next === undefined) { next = { children: new Map() }; node.children.set(seg, next) }
      node = next
    }
    if (node.value !== undefined || node.children.size > 0) return undefined
    node.value = { v: s.value }
  }
  const splices: Splice[] = []
  if (!walk(ctx, root, tree, splices)) return undefined
  return applySplicesInOrder(ctx.text, splices)
}

// Splices for `tree` under the block mapping `map`; false when something needs the slow path.
function walk (ctx: SpliceContext, map: YAMLMap, tree: PathTree, splices: Splice[]): boolean {
  if (map.flow === true || map.items.length === 0) return false
  const byKey = new Map<string, Pair>()
  for (const p of map.items) {
    const k = keyName(p.key)
    if (k === undefined || byKey.has(k)) return false
    byKey.set(k, p as Pair)
  }
  const inserts: Array<[string, YamlValue]> = []
  for (const [seg, child] of tree.children) {
    const pair = byKey.get(seg)
    if (pair === undefined) { inserts.push([seg, plainOf(child)]); continue }
    const old = pair.value
    if (child.value !== undefined) {
      const value = child.value.v
      if (deepEqual(toJs(ctx.doc, old), value)) continue
      // A mapping over a block mapping merges key by key (and drops keys): the slow path does it.
      if (isMap(old) && old.flow !== true && isPlainMap(value)) return false
      if (isMap(old) && old.flow === true) return false
      splices.push(...replaceValueSplices(ctx, pair, value))
    } else if (isMap(old)) {
      if (!walk(ctx, old, child, splices)) return false
    } else if (old === null || (isScalar(old) && old.value === null)) {
      splices.push(...replaceValueSplices(ctx, pair, plainOf(child)))
    } else {
      return false // through a scalar or a sequence: the slow path reports where
    }
  }
  // After the children's splices: lines inserted at one offset keep this order (inner first).
  if (inserts.length > 0) splices.push(insertPairsSplice(ctx, map, inserts))
  return true
}

function plainOf (tree: PathTree): YamlValue {
  if (tree.value !== undefined) return tree.value.v
  const out: Record<string, YamlValue> = {}
  for (const [k, c] of tree.children) defineKey(out, k, plainOf(c))
  return out
}
