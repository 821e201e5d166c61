// JSON with object keys sorted at every level, so two equal values always hash the same
// (JSON.stringify keeps insertion order, which depends on how a value was built).

/** The canonical JSON text of `v` (undefined members dropped, as JSON.stringify does). */
export function canonicalJson (v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return x
    return Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]]))
  })
}
