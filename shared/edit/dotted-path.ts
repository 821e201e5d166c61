// Dotted paths name a place in the YAML config: `hsm.minio.minkms.auth.key`.
//
// Syntax (the decision, documented once here):
//   path    = segment *("." segment)
//   segment = plain / quoted
//   plain   = 1*(any character except `.` and `"`), without leading or trailing whitespace
//   quoted  = `"` *(any character except `"` and `\`, or `\"`, or `\\`) `"`
// So a key that contains a dot is written `tls."my.key"`, and `"a\"b"` is the key `a"b`.
// Segments are always mapping keys: there is no index syntax, because the editor never descends
// into sequences (a list is replaced as a whole).
//
// `__proto__`, `constructor` and `prototype` are refused as segments: a path names a mapping key
// that code walks with plain objects, and these names reach Object.prototype instead of a key.
// minkms configs never use them.
import { InvalidPathError } from './errors.js'

/** Keys that would address an object's prototype chain instead of a mapping key. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** True for a key no path, config key or variable name may be (see {@link RESERVED_KEYS}). */
export function isReservedKey (key: string): boolean {
  return RESERVED_KEYS.has(key)
}

/** Splits a dotted path into its segments; throws InvalidPathError saying what is wrong and where. */
export function parseDottedPath (path: string): string[] {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidPathError(String(path), 'empty path')
  const segments: string[] = []
  let i = 0
  for (;;) {
    if (path[i] === '"') {
      let seg = ''
      i++
      for (;;) {
        const c = path[i]
        if (c === undefined) throw new InvalidPathError(path, `unterminated quote in segment ${segments.length + 1}`)
        if (c === '"') { i++; break }
        if (c === '\\') {
          const n = path[i + 1]
          if (n !== '"' && n !== '\\') throw new InvalidPathError(path, `only \\" and \\\\ may follow a backslash (position ${i + 1})`)
          seg += n
          i += 2
          continue
        }
        seg += c
        i++
      }
      segments.push(seg)
    } else {
      const start = i
      while (i < path.length && path[i] !== '.' && path[i] !== '"') i++
      const seg = path.slice(start, i)
      if (seg.length === 0) throw new InvalidPathError(path, `empty segment ${segments.length + 1} (use "" to name an empty key)`)
      if (seg.trim() !== seg) throw new InvalidPathError(path, `segment ${JSON.stringify(seg)} has leading or trailing whitespace; quote it if that is intended`)
      if (path[i] === '"') throw new InvalidPathError(path, `quote inside segment ${segments.length + 1}; quote the whole segment`)
      segments.push(seg)
    }
    const last = segments[segments.length - 1] ?? ''
    if (isReservedKey(last)) throw new InvalidPathError(path, `segment ${segments.length} ${JSON.stringify(last)} is a reserved name (__proto__, constructor and prototype are refused)`)
    if (i === path.length) return segments
    if (path[i] !== '.') throw new InvalidPathError(path, `expected "." after segment ${segments.length} (position ${i + 1})`)
    i++
    if (i === path.length) throw new InvalidPathError(path, 'path ends with "."')
  }
}

/** The dotted form of `segments`, quoting segments that need it; inverse of {@link parseDottedPath}. */
export function formatDottedPath (segments: readonly string[]): string {
  if (segments.length === 0) throw new TypeError('a path has at least one segment')
  return segments.map(s => {
    if (s.length > 0 && !/[."]/.test(s) && s.trim() === s) return s
    return `"${s.replace(/[\\"]/g, c => `\\${c}`)}"`
  }).join('.')
}

/** True when `a` is `b` or lies inside it (`a.b.c` is within `a.b`). */
export function isWithin (a: readonly string[], b: readonly string[]): boolean {
  return a.length >= b.length && b.every((s, i) => a[i] === s)
}
