// Bounds on a change, so that one request cannot hold the agent busy or exhaust its memory. They
// are generous for real minkms changes (the HSM change sets one key with five leaves) and checked
// before anything recurses into the value or edits a file: the walk here is iterative, so a value
// nested 100,000 deep is refused without a stack overflow. The body size itself is bounded at the
// HTTP edge (agent/http-edge.ts) with the same figure.
import { ChangeTooDeepError, ChangeTooLargeError } from './errors.js'

/** The limits of one change. */
export interface ChangeLimits {
  /** Bytes of a change body or spec file. */
  readonly maxBytes: number
  /** Entries in files.config.set + files.config.delete + files.env.set + files.env.unset. */
  readonly maxKeys: number
  /** Nesting depth of the whole change (the top-level object is depth 1). */
  readonly maxDepth: number
  /** Characters in any string (value, key or path). */
  readonly maxStringLength: number
  /** Mapping entries and list items in the whole change, at any depth. */
  readonly maxNodes: number
}

/** The limits the agent enforces (docs/security.md lists them). */
export const CHANGE_LIMITS: ChangeLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxKeys: 1000,
  maxDepth: 32,
  maxStringLength: 64 * 1024,
  maxNodes: 20_000
})

/**
 * Throws ChangeTooDeepError or ChangeTooLargeError when `value` (a parsed, not yet validated
 * change) breaks a limit. Anything else about the value is left to validation.
 */
export function checkChangeLimits (value: unknown, limits: ChangeLimits = CHANGE_LIMITS): void {
  const stack: Array<{ v: unknown, depth: number }> = [{ v: value, depth: 1 }]
  let nodes = 0
  const tooLong = (what: string, s: string): ChangeTooLargeError =>
    new ChangeTooLargeError('stringLength', `change holds ${what} of ${s.length} characters; the limit is ${limits.maxStringLength}`)
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown, depth: number }
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength) throw tooLong('a string', v)
      continue
    }
    if (typeof v !== 'object' || v === null) continue
    if (depth > limits.maxDepth) throw new ChangeTooDeepError(limits.maxDepth)
    const entries: Array<[string | undefined, unknown]> = Array.isArray(v) ? v.map(x => [undefined, x]) : Object.entries(v)
    nodes += entries.length
    if (nodes > limits.maxNodes) throw new ChangeTooLargeError('nodes', `change holds more than ${limits.maxNodes} values in all; split it into several changes`)
    for (const [k, x] of entries) {
      if (k !== undefined && k.length > limits.maxStringLength) throw tooLong('a key', k)
      stack.push({ v: x, depth: depth + 1 })
    }
  }
  const files = field(value, 'files')
  const count = (o: unknown): number => Array.isArray(o) ? o.length : typeof o === 'object' && o !== null ? Object.keys(o).length : 0
  const config = field(files, 'config')
  const env = field(files, 'env')
  const keys = count(field(config, 'set')) + count(field(config, 'delete')) + count(field(env, 'set')) + count(field(env, 'unset'))
  if (keys > limits.maxKeys) {
    throw new ChangeTooLargeError('keys', `change edits ${keys} keys (files.config.set/delete, files.env.set/unset); the limit is ${limits.maxKeys}: split it into several revisions`)
  }
}

function field (o: unknown, key: string): unknown {
  return typeof o === 'object' && o !== null && !Array.isArray(o) && Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined
}
