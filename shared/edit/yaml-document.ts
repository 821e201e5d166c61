// Parsing YAML into the `yaml` package's Document with typed errors. The error messages keep
// yaml's reason and position but drop its source excerpt: the failing line may hold a secret.
import {
  isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, visit,
  type Document, type DocumentOptions, type ParseOptions, type SchemaOptions, type YAMLError
} from 'yaml'
import { YamlMultipleDocumentsError, YamlParseError } from './errors.js'
import { lineAt } from './text-lines.js'

/** Options passed through to the `yaml` parser (custom tags for spec files). */
export type YamlParseOptions = ParseOptions & DocumentOptions & SchemaOptions

/**
 * Parses `text` as exactly one YAML document. An empty text or one holding only comments gives a
 * document whose `contents` is null. Throws YamlParseError (first error, with line and column) or
 * YamlMultipleDocumentsError.
 */
export function parseYamlDocument (text: string, opts: YamlParseOptions = {}): Document.Parsed {
  // A plan parses the same text several times (edit, meaning check, validation, secret scan);
  // parsing dominates its cost on a large file, so the last few texts keep their document.
  // Callers treat documents as read-only (the editor splices text, it never mutates a node).
  const plain = Object.keys(opts).length === 0
  const cached = plain ? RECENT.get(text) : undefined
  if (cached !== undefined) return cached
  const doc = parseUncached(text, opts)
  if (plain) {
    RECENT.set(text, doc)
    for (const k of RECENT.keys()) { if (RECENT.size <= RECENT_MAX) break; RECENT.delete(k) }
  }
  return doc
}

/** Texts parsed last (insertion order = age) and their documents. */
const RECENT = new Map<string, Document.Parsed>()
const RECENT_MAX = 4

function parseUncached (text: string, opts: YamlParseOptions): Document.Parsed {
  // yaml's own duplicate-key check compares each key with every earlier one (quadratic in a
  // mapping's size); duplicateKeyError does the same check with a hash set.
  const docs = parseAllDocuments(text, { prettyErrors: true, ...opts, uniqueKeys: false })
  // A text without any document (empty, comments only) comes back as an EmptyStream with its own errors.
  if ('empty' in docs && docs.errors.length > 0) throw yamlParseError(docs.errors[0], text)
  const [first, second] = docs
  if (second !== undefined) throw new YamlMultipleDocumentsError(docs.length, lineAt(text, second.range[0]))
  if (first === undefined) return parseDocument(text, { prettyErrors: true, ...opts })
  if (first.errors.length > 0) throw yamlParseError(first.errors[0], text)
  const duplicate = duplicateKeyError(first, text)
  if (duplicate !== undefined) throw duplicate
  return first
}

/** The first mapping key that appears twice in its mapping (scalar keys, compared by value). */
function duplicateKeyError (doc: Document, text: string): YamlParseError | undefined {
  let found: YamlParseError | undefined
  visit(doc, {
    Map (_key, map) {
      const seen = new Set<unknown>()
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue
        if (seen.has(pair.key.value)) {
          const pos = lineOfOffset(text, pair.key.range?.[0] ?? 0)
          found = new YamlParseError('Map keys must be unique', pos.line, pos.col)
          return visit.BREAK
        }
        seen.add(pair.key.value)
      }
      return undefined
    }
  })
  return found
}

/** A YamlParseError for yaml's error: its reason without the source excerpt, and its position. */
export function yamlParseError (err: YAMLError | undefined, text: string): YamlParseError {
  if (err === undefined) return new YamlParseError('unknown error', 1, 1)
  const reason = (err.message.split(/ at line \d+, column \d+/)[0] ?? err.code).split('\n')[0] ?? err.code
  const pos = err.linePos?.[0] ?? { ...lineOfOffset(text, err.pos[0]) }
  return new YamlParseError(reason, pos.line, pos.col)
}

function lineOfOffset (text: string, offset: number): { line: number, col: number } {
  const line = lineAt(text, offset)
  return { line, col: offset - text.lastIndexOf('\n', offset - 1) }
}

/** How a node shows in messages: `a mapping`, `a sequence`, `an alias`, `a scalar ("…" not shown)`. */
export function describeNode (node: unknown): string {
  if (isMap(node)) return 'a mapping'
  if (isSeq(node)) return 'a sequence'
  if (isAlias(node)) return 'an alias'
  if (isScalar(node)) return node.value === null ? 'null' : `a ${typeof node.value} scalar`
  return 'empty'
}

/** True when the document uses any alias (`*name`); anchors on an edited path then matter. */
export function hasAliases (doc: Document): boolean {
  let found = false
  visit(doc, { Alias () { found = true; return visit.BREAK } })
  return found
}

/** The string form of a mapping key, as dotted paths name it; undefined for complex keys. */
export function keyName (key: unknown): string | undefined {
  // yaml's toJS turns a null key (`~:`) into '' too, so paths and the semantic check agree.
  if (isScalar(key)) return key.value === null ? '' : String(key.value)
  return undefined
}
