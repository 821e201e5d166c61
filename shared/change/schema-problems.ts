// TypeBox reports schema violations the way JSON Schema does: one entry per failed keyword, a
// union failure once per branch, an unknown field twice. Operators need one line per mistake that
// names the field and says what to write instead; this module turns the first into the second,
// using each schema's `description` as the "what to write".
import type { TSchema } from 'typebox'
import { Settings } from 'typebox/system'
import { Value } from 'typebox/value'
import type { Problem } from '../edit/problem.js'
import { ENV_NAME_SOURCE } from './schema.js'

/** A location inside a value: object keys and array indices. */
export type ValuePath = ReadonlyArray<string | number>

/** Finds the 1-based line (and column) of a location in the source text, when there is one. */
export type Locate = (path: ValuePath) => { line: number, column?: number } | undefined

// Enough for any realistic spec; TypeBox's default (8) would hide problems behind the first few.
const MAX_ERRORS = 200

/** Every violation of `schema` by `value`, one problem per mistake, in document order. */
export function schemaProblems (schema: TSchema, value: unknown, locate: Locate = () => undefined): Problem[] {
  const saved = Settings.Get().maxErrors
  Settings.Set({ maxErrors: MAX_ERRORS })
  let errors: ReturnType<typeof Value.Errors>
  try {
    errors = Value.Errors(schema, value)
  } finally {
    Settings.Set({ maxErrors: saved })
  }
  const unions = errors.filter(e => e.keyword === 'anyOf').map(e => e.instancePath)
  const out: Array<{ path: ValuePath, message: string }> = []
  for (const e of errors) {
    const at = pointerToPath(e.instancePath, value)
    // A failed union is reported once, by the anyOf entry, not per branch.
    if (e.keyword !== 'anyOf' && unions.some(u => e.instancePath === u || e.instancePath.startsWith(`${u}/`))) continue
    const node = schemaAt(schema, at)
    const params = e.params as Record<string, unknown>
    switch (e.keyword) {
      case 'boolean': // the `additionalProperties: false` sub-schema; reported by additionalProperties
        break
      case 'additionalProperties':
        for (const name of asStrings(params.additionalProperties)) {
          out.push({ path: [...at, name], message: unknownField(node) })
        }
        break
      case 'required':
        for (const name of asStrings(params.requiredProperties)) {
          const hint = describe(childSchema(node, name))
          out.push({ path: [...at, name], message: `missing${hint === undefined ? '' : `; expected ${hint}`}` })
        }
        break
      case 'enum':
        out.push({ path: at, message: `must be one of: ${asStrings(params.allowedValues).join(', ')}` })
        break
      case 'minimum':
        out.push({ path: at, message: `must be ${String(params.comparison ?? '>=')} ${String(params.limit)}${hintSuffix(node)}` })
        break
      case 'type':
        out.push({ path: at, message: `must be ${article(String(params.type))}${hintSuffix(node)}` })
        break
      case 'minLength':
        out.push({ path: at, message: 'must not be empty' })
        break
      case 'uniqueItems':
        out.push({ path: at, message: 'lists the same entry twice' })
        break
      default:
        out.push({ path: at, message: describe(node) === undefined ? e.message : `must be ${describe(node) ?? ''}` })
    }
  }
  return dedupe(out).map(p => withLocation(formatValuePath(p.path), p.message, locate(p.path)))
}

/** `files.env.set.MY_KEY`, `files.config.delete[1]`, `files.config.set["hsm.minio"]`. */
export function formatValuePath (path: ValuePath): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`
    else out += `[${JSON.stringify(seg)}]`
  }
  return out
}

/** A Problem with the location, when known. */
export function withLocation (path: string, message: string, loc: { line: number, column?: number } | undefined): Problem {
  if (loc === undefined) return { path, message }
  return loc.column === undefined ? { path, message, line: loc.line } : { path, message, line: loc.line, column: loc.column }
}

function unknownField (node: TSchema | undefined): string {
  const s = node as { properties?: Record<string, unknown>, patternProperties?: Record<string, TSchema> } | undefined
  const patterns = Object.keys(s?.patternProperties ?? {})
  if (patterns.length > 0) {
    return patterns.includes(ENV_NAME_SOURCE)
      ? 'is not a valid variable name; use letters, digits and _, not starting with a digit'
      : `is not a valid name here (must match ${patterns.join(' or ')})`
  }
  const allowed = Object.keys(s?.properties ?? {})
  return allowed.length === 0 ? 'unknown field' : `unknown field; allowed: ${allowed.join(', ')}`
}

function schemaAt (schema: TSchema, path: ValuePath): TSchema | undefined {
  let node: TSchema | undefined = schema
  for (const seg of path) {
    if (node === undefined) return undefined
    node = childSchema(node, seg)
  }
  return node
}

function childSchema (node: TSchema | undefined, seg: string | number): TSchema | undefined {
  const s = node as {
    properties?: Record<string, TSchema>
    patternProperties?: Record<string, TSchema>
    additionalProperties?: TSchema | boolean
    items?: TSchema
    anyOf?: TSchema[]
  } | undefined
  if (s === undefined) return undefined
  if (typeof seg === 'number') return s.items
  if (s.properties !== undefined && Object.hasOwn(s.properties, seg)) return s.properties[seg]
  for (const [pattern, sub] of Object.entries(s.patternProperties ?? {})) {
    if (new RegExp(pattern).test(seg)) return sub
  }
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined
}

function describe (node: TSchema | undefined): string | undefined {
  const d = (node as { description?: unknown } | undefined)?.description
  return typeof d === 'string' ? d : undefined
}

function hintSuffix (node: TSchema | undefined): string {
  const d = describe(node)
  return d === undefined ? '' : ` (${d})`
}

function article (type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

function asStrings (v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : []
}

// JSON pointer → path; a segment is an index only where the value holds an array, so a config
// key named "1" stays a key.
function pointerToPath (pointer: string, value: unknown): Array<string | number> {
  if (pointer === '') return []
  const path: Array<string | number> = []
  let node: unknown = value
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    const step = Array.isArray(node) ? Number(seg) : seg
    path.push(step)
    node = typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[step] : undefined
  }
  return path
}

function dedupe<T extends { path: ValuePath, message: string }> (items: T[]): T[] {
  const seen = new Set<string>()
  return items.filter(i => {
    const k = `${JSON.stringify(i.path)}\0${i.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
