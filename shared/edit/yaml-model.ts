// The meaning of a config edit on plain values. The text editor splices bytes; this module says
// what the result must mean, and the editor checks its output against it before returning.

/** A value a config edit can put into YAML: what JSON can express. */
export type YamlValue = null | boolean | number | string | readonly YamlValue[] | { readonly [key: string]: YamlValue }

/** A mutable plain mapping. */
type PlainMap = Record<string, unknown>

/** True for a plain object (a mapping), not an array or null. */
export function isPlainMap (v: unknown): v is PlainMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Deep equality of plain values; mapping key order does not matter, sequence order does. */
export function deepEqual (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b)
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  }
  if (isPlainMap(a) && isPlainMap(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every(k => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
  }
  return false
}

/** `{ a: { b: value } }` for segments `[a, b]`; the value itself for no segments. */
export function nest (segments: readonly string[], value: YamlValue): YamlValue {
  return segments.reduceRight<YamlValue>((v, k) => ({ [k]: v }), value)
}

/**
 * Sets `value` at `segments` in `root` (mutated), creating mappings for missing or null parents.
 * Reads only own properties and writes with define semantics, and new mappings have no prototype:
 * a key such as `__proto__` stays a key and can never reach Object.prototype.
 */
export function setPlain (root: PlainMap, segments: readonly string[], value: YamlValue): void {
  let node = root
  for (const seg of segments.slice(0, -1)) {
    const next = Object.hasOwn(node, seg) ? node[seg] : undefined
    if (isPlainMap(next)) { node = next; continue }
    const created: PlainMap = Object.create(null) as PlainMap
    defineKey(node, seg, created)
    node = created
  }
  const last = segments.at(-1)
  if (last !== undefined) defineKey(node, last, structuredClone(value))
}

/** `map[key] = value` as a data property of `map` itself, never a prototype setter. */
export function defineKey (map: PlainMap, key: string, value: unknown): void {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true })
}

/**
 * Deletes `segments` from `root` (mutated); a missing path is a no-op. With `prune`, mappings that
 * the deletion leaves empty are removed as well, up to but not including the root.
 */
export function deletePlain (root: PlainMap, segments: readonly string[], prune: boolean): void {
  const chain: PlainMap[] = [root]
  for (const seg of segments.slice(0, -1)) {
    const parent = chain.at(-1)
    const next = parent !== undefined && Object.hasOwn(parent, seg) ? parent[seg] : undefined
    if (!isPlainMap(next)) return
    chain.push(next)
  }
  const last = segments.at(-1)
  const parent = chain.at(-1)
  if (last === undefined || parent === undefined || !Object.hasOwn(parent, last)) return
  delete parent[last]
  if (!prune) return
  for (let i = chain.length - 1; i > 0; i--) {
    const map = chain[i]
    const key = segments[i - 1]
    if (map === undefined || key === undefined || Object.keys(map).length > 0) return
    delete chain[i - 1]?.[key]
  }
}
