// Layered daemon config, validated once and frozen: defaults < YAML file < environment (`<PREFIX>_*`) < CLI
// flags, validated once against a TypeBox schema plus the daemon's own rules, then deep-frozen.
// This is the only module that reads `process.env`. Every problem is reported at once, naming
// the field, what to write, and where the bad value came from (file line, variable or flag).
import { readFile } from 'node:fs/promises'
import type { Static, TSchema } from 'typebox'
import { LineCounter, isMap, isSeq, parseDocument, type Document } from 'yaml'
import { deepFreeze } from './change/change.js'
import { formatValuePath, schemaProblems, type ValuePath } from './change/schema-problems.js'
import { formatProblems, type Problem } from './edit/problem.js'
import { DaemonConfigInvalidError, DaemonConfigUnreadableError } from './errors.js'

/** Deeply readonly view of a config. */
export type Frozen<T> = T extends ReadonlyArray<infer U> ? ReadonlyArray<Frozen<U>> : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T

/** A value given on the command line for a dotted config path. */
export interface ConfigFlag {
  /** Config path, e.g. `['listen', 'port']`. */
  path: readonly string[]
  /** The text as typed; converted by the schema type of the path. */
  value: string
  /** How the user wrote it, for messages (`--listen-port`). */
  source: string
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions<S extends TSchema> {
  /** What the config is called in messages, e.g. `agent config`. */
  name: string
  schema: S
  /** Lowest layer. */
  defaults: Record<string, unknown>
  /** YAML file named by the user (`--config`); a missing file is an error. */
  file?: string
  /** Environment variable that names the file when `file` is not given. */
  fileEnv?: string
  /** The file when neither names one; a missing default file is an error too. */
  defaultFile?: string
  /** Environment variables `<envPrefix><PATH>` set leaves, e.g. `KEYROLL_AGENT_LISTEN_PORT`. */
  envPrefix: string
  /** The environment; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>
  /** Variables with the prefix that are not config leaves (e.g. `KEYROLL_AGENT_CONFIG`). */
  envIgnore?: readonly string[]
  flags?: readonly ConfigFlag[]
  /** Rules the schema cannot say; run only when the schema holds. */
  rules?: (config: Static<S>) => Problem[]
}

/** A leaf of the schema that env vars and flags can set. */
interface Leaf { path: string[], type: 'string' | 'integer' | 'number' | 'boolean' }

/** The environment variable name of a config path: `listen.port` → `<PREFIX>LISTEN_PORT`. */
export function envName (prefix: string, path: readonly string[]): string {
  return prefix + path.map(s => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
}

/** The leaves of an object schema, in declaration order. */
export function schemaLeaves (schema: TSchema, at: string[] = []): Leaf[] {
  const s = schema as { type?: unknown, properties?: Record<string, TSchema>, enum?: unknown[], const?: unknown }
  if (s.properties !== undefined) return Object.entries(s.properties).flatMap(([k, v]) => schemaLeaves(v, [...at, k]))
  const type = s.type === 'integer' || s.type === 'number' || s.type === 'boolean' ? s.type : 'string'
  return [{ path: at, type }]
}

/** Loads, merges, validates and freezes a config. Throws SHR_DAEMON_CONFIG_* errors. */
export async function loadConfig<S extends TSchema> (opts: LoadConfigOptions<S>): Promise<Frozen<Static<S>>> {
  const leaves = schemaLeaves(opts.schema)
  const problems: Problem[] = []
  const origin = new Map<string, string>()
  const layers: unknown[] = [opts.defaults]

  const env = opts.env ?? process.env
  const file = opts.file ?? (opts.fileEnv === undefined ? undefined : env[opts.fileEnv]) ?? opts.defaultFile
  let locateInFile: (path: ValuePath) => { line: number, column?: number } | undefined = () => undefined
  if (file !== undefined) {
    const { value, locate } = await readYamlFile(file)
    layers.push(value)
    locateInFile = locate
  }

  const ignore = [...(opts.envIgnore ?? []), ...(opts.fileEnv === undefined ? [] : [opts.fileEnv])]
  const byEnvName = new Map(leaves.map(l => [envName(opts.envPrefix, l.path), l]))
  const fromEnv: Record<string, unknown> = {}
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(opts.envPrefix) || raw === undefined || ignore.includes(name)) continue
    const leaf = byEnvName.get(name)
    if (leaf === undefined) {
      problems.push({ path: name, message: `unknown environment variable; known: ${[...byEnvName.keys(), ...ignore].join(', ')}` })
      continue
    }
    setPath(fromEnv, leaf.path, convert(raw, leaf.type))
    origin.set(formatValuePath(leaf.path), name)
  }
  layers.push(fromEnv)

  const fromFlags: Record<string, unknown> = {}
  for (const flag of opts.flags ?? []) {
    const leaf = leaves.find(l => l.path.join('.') === flag.path.join('.'))
    setPath(fromFlags, flag.path, convert(flag.value, leaf?.type ?? 'string'))
    origin.set(formatValuePath(flag.path), flag.source)
  }
  layers.push(fromFlags)

  const merged = layers.reduce(merge, {})
  const locate = (path: ValuePath): { line: number, column?: number } | undefined =>
    overriddenAt(origin, path) === undefined ? locateInFile(path) : undefined
  problems.push(...schemaProblems(opts.schema, merged, locate))
  if (problems.length === 0 && opts.rules !== undefined) problems.push(...opts.rules(merged as Static<S>))
  if (problems.length > 0) {
    const annotated = problems.map(p => {
      const from = origin.get(p.path)
      return from === undefined ? p : { ...p, message: `${p.message} (set by ${from})` }
    })
    const sources = [file, Object.keys(fromEnv).length > 0 ? 'environment' : undefined, (opts.flags?.length ?? 0) > 0 ? 'flags' : undefined]
      .filter((s): s is string => s !== undefined)
    const err = new DaemonConfigInvalidError(`${opts.name}${sources.length > 0 ? ` (${sources.join(', ')})` : ''}`, formatProblems(annotated))
    throw Object.assign(err, { problems: annotated })
  }
  return deepFreeze(merged) as Frozen<Static<S>>
}

async function readYamlFile (path: string): Promise<{ value: unknown, locate: (p: ValuePath) => { line: number, column?: number } | undefined }> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new DaemonConfigUnreadableError(path, (err as NodeJS.ErrnoException).code ?? (err as Error).message)
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false })
  const first = doc.errors[0]
  if (first !== undefined) {
    const pos = lineCounter.linePos(first.pos[0])
    // The reason without yaml's source excerpt: a config file line may hold a secret one day.
    throw new DaemonConfigUnreadableError(path, `not valid YAML at line ${pos.line}, column ${pos.col}: ${first.code.toLowerCase().replace(/_/g, ' ')}`)
  }
  const value: unknown = doc.toJS() ?? {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DaemonConfigUnreadableError(path, 'the document must be a mapping of settings')
  }
  return { value, locate: p => locateNode(doc, lineCounter, p) }
}

// Line of the deepest existing key on the path: a missing field points at its parent.
function locateNode (doc: Document, lines: LineCounter, path: ValuePath): { line: number, column?: number } | undefined {
  let node: unknown = doc.contents
  let offset: number | undefined
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find(p => String((p.key as { value?: unknown } | null)?.value) === String(seg))
      if (pair === undefined) break
      offset = (pair.key as { range?: [number, number, number] }).range?.[0] ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg]
      offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0] ?? offset
    } else break
  }
  if (offset === undefined) return undefined
  const pos = lines.linePos(offset)
  return { line: pos.line, column: pos.col }
}

// The env var or flag that set this path or a parent of it, if any.
function overriddenAt (origin: ReadonlyMap<string, string>, path: ValuePath): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const from = origin.get(formatValuePath(path.slice(0, n)))
    if (from !== undefined) return from
  }
  return undefined
}

function convert (raw: string, type: Leaf['type']): unknown {
  if (type === 'integer' || type === 'number') {
    const n = Number(raw)
    return raw.trim() !== '' && Number.isFinite(n) ? n : raw
  }
  if (type === 'boolean') {
    if (/^(?:true|1|yes|on)$/i.test(raw)) return true
    if (/^(?:false|0|no|off)$/i.test(raw)) return false
  }
  return raw
}

// Own properties only, written with define semantics: a key read from a file (`__proto__:`) stays
// a key (the schema then reports it as unknown) and never replaces a prototype.
function setPath (target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target
  path.slice(0, -1).forEach(seg => {
    const next = Object.hasOwn(node, seg) ? node[seg] : undefined
    const child = typeof next === 'object' && next !== null ? next as Record<string, unknown> : {}
    define(node, seg, child)
    node = child
  })
  const last = path.at(-1)
  if (last !== undefined) define(node, last, value)
}

// Objects merge key by key; arrays and scalars replace.
function merge (base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(base)) define(out, k, v)
  for (const [k, v] of Object.entries(over)) define(out, k, merge(Object.hasOwn(base, k) ? base[k] : undefined, v))
  return out
}

function define (o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
