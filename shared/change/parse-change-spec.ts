// Reading a change spec file (YAML or JSON) into a Change, with errors that point at the line.
// In YAML, `!secret <value>` marks a secret; it reads as `{ $secret: <value> }`, the JSON form,
// so both formats go through the same validation. Parse errors never quote the source text:
// the broken line may be the one holding a secret.
import { isAlias, isCollection, isMap, isSeq, parseDocument, visit, type Document, type ScalarTag } from 'yaml'
import { EditError, YamlParseError } from '../edit/errors.js'
import { lineColumnAt } from '../edit/text-lines.js'
import { keyName, parseYamlDocument } from '../edit/yaml-document.js'
import type { Change } from './change.js'
import { ChangeSpecSyntaxError, ChangeTooDeepError, ChangeTooLargeError, ChangeYamlAliasesError } from './errors.js'
import { parseJsonStrict } from './json-body.js'
import { CHANGE_LIMITS, checkChangeLimits } from './limits.js'
import type { Locate } from './schema-problems.js'
import { validateChange, type ChangeDefaults } from './validate-change.js'

/** Spec file formats. */
export type SpecFormat = 'yaml' | 'json'

/** The `!secret` YAML tag: a scalar becomes `{ $secret: "<its text>" }`. */
export const SECRET_TAG: ScalarTag = {
  tag: '!secret',
  identify: () => false,
  resolve: (value: string) => ({ $secret: value })
}

/** Alias expansions a YAML spec may use: `yaml`'s own default, named so the error can say it. */
export const MAX_YAML_ALIASES = 100

/**
 * Parses and validates a change spec, with `defaults` (the agent's) where it is silent. Throws ChangeSpecSyntaxError (with line and column) when
 * the text does not parse, ChangeValidationError (every problem, with lines) when it is not a
 * valid change.
 */
export function parseChangeSpec (text: string, format: SpecFormat, defaults?: ChangeDefaults): Change {
  const { value, locate } = readSpecText(text, format)
  return validateChange(value, { locate, ...(defaults === undefined ? {} : { defaults }) })
}

/**
 * The spec's value as written (the JSON form: `!secret` as `{ $secret }`), within the limits but
 * neither validated nor defaulted: what a client sends as a change so that the receiver applies
 * its own defaults, exactly as it would to the same spec text.
 */
export function readChangeSpecValue (text: string, format: SpecFormat): unknown {
  return readSpecText(text, format).value
}

function readSpecText (text: string, format: SpecFormat): { value: unknown, locate: Locate } {
  const bytes = Buffer.byteLength(text)
  if (bytes > CHANGE_LIMITS.maxBytes) throw new ChangeTooLargeError('bytes', `change spec is ${bytes} bytes; the limit is ${CHANGE_LIMITS.maxBytes}`)
  const read = format === 'json' ? readJson(text) : readYaml(text)
  checkChangeLimits(read.value)
  return read
}

function readYaml (text: string): { value: unknown, locate: Locate } {
  // Parsing 100,000 aliases takes seconds before their count can be checked: a text with more
  // `*` than ten times the alias limit is refused unparsed (no real spec comes near it).
  let stars = 0
  for (let i = text.indexOf('*'); i !== -1; i = text.indexOf('*', i + 1)) {
    if (++stars > 10 * MAX_YAML_ALIASES) throw new ChangeYamlAliasesError(MAX_YAML_ALIASES)
  }
  let doc: Document.Parsed
  try {
    doc = parseYamlDocument(text, { customTags: [SECRET_TAG] })
  } catch (err) {
    // The composer recurses per nesting level: a deep enough text overflows the stack.
    if (err instanceof RangeError) throw new ChangeTooDeepError(CHANGE_LIMITS.maxDepth)
    if (!(err instanceof EditError)) throw err
    // The same overflow, met while the parser reported its errors: the limit is what to say.
    if (err instanceof YamlParseError && /call stack/i.test(err.reason)) throw new ChangeTooDeepError(CHANGE_LIMITS.maxDepth)
    if (err instanceof YamlParseError) throw new ChangeSpecSyntaxError(err.reason, { line: err.line, column: err.column })
    throw new ChangeSpecSyntaxError(err.message)
  }
  // A list or mapping as a key (`? [a, b]`) would become the text "[ a, b ]" as a path, with a
  // process warning from yaml; a spec's keys are names and paths.
  const complexKey = firstComplexKey(doc, text)
  if (complexKey !== undefined) {
    throw new ChangeSpecSyntaxError('a key is a list or a mapping; keys of a change spec are names and dotted paths (strings)', complexKey)
  }
  // yaml only warns about tags it cannot apply; in a spec they are mistakes.
  const warning = doc.warnings[0]
  if (warning !== undefined) {
    const pos = warning.linePos?.[0]
    const reason = /!secret/.test(warning.message)
      ? '!secret applies to a single value (a string), not to a mapping or a list'
      : warning.message.split(/ at line \d+/)[0] ?? warning.code
    throw new ChangeSpecSyntaxError(reason, pos === undefined ? {} : { line: pos.line, column: pos.col })
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES })
  } catch (err) {
    if (err instanceof RangeError) throw new ChangeTooDeepError(CHANGE_LIMITS.maxDepth)
    if (/alias count/i.test((err as Error).message)) throw new ChangeYamlAliasesError(MAX_YAML_ALIASES)
    // `*b` with no `&b` before it: yaml throws a ReferenceError here, which was a 500.
    if (err instanceof ReferenceError) throw new ChangeSpecSyntaxError('an alias (*name) refers to no anchor (&name) set before it; set the anchor first or write the value out', firstUnresolvedAlias(doc, text))
    throw err
  }
  return { value, locate: locator(doc, text) }
}

/** Line and column of the first mapping key that is a list or a mapping, if any. */
function firstComplexKey (doc: Document.Parsed, text: string): { line: number, column: number } | undefined {
  let at: { line: number, column: number } | undefined
  visit(doc, {
    Pair (_, pair) {
      if (isCollection(pair.key)) {
        at = positionOf(text, pair.key.range?.[0])
        return visit.BREAK
      }
      return undefined
    }
  })
  return at
}

/** Line and column of the first alias whose anchor is not set before it (for the message). */
function firstUnresolvedAlias (doc: Document.Parsed, text: string): { line?: number, column?: number } {
  const anchors = new Set<string>()
  let at: { line: number, column: number } | undefined
  visit(doc, {
    Node (_, node) {
      if (isAlias(node)) {
        if (!anchors.has(node.source)) { at = positionOf(text, node.range?.[0]); return visit.BREAK }
      } else if (node.anchor !== undefined) anchors.add(node.anchor)
      return undefined
    }
  })
  return at ?? {}
}

function positionOf (text: string, offset: number | undefined): { line: number, column: number } | undefined {
  return offset === undefined ? undefined : lineColumnAt(text, offset)
}

function readJson (text: string): { value: unknown, locate: Locate } {
  const value = parseJsonStrict(text)
  // JSON is YAML 1.2 flow syntax: the yaml parser gives the positions of fields. Only when a
  // problem asks for one: parsing a 1 MiB body that way holds the event loop for well over 100 ms,
  // and a valid change never needs a position.
  let located: Locate | undefined
  const locate: Locate = path => {
    if (located === undefined) {
      const doc = parseDocument(text, { uniqueKeys: false })
      located = doc.errors.length === 0 ? locator(doc, text) : () => undefined
    }
    return located(path)
  }
  return { value, locate }
}

// The line of a value path in the document: the key of the deepest field that exists on the
// path, so a missing field points at its parent and an unknown field at itself.
function locator (doc: Document, text: string): Locate {
  return path => {
    let node: unknown = doc.contents
    let pos = (node as { range?: [number, number, number] } | null)?.range?.[0]
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find(p => keyName(p.key) === String(seg))
        if (pair === undefined) break
        pos = (pair.key as { range?: [number, number, number] }).range?.[0] ?? pos
        node = pair.value
      } else if (isSeq(node) && typeof seg === 'number') {
        const item: unknown = node.items[seg]
        if (item === undefined) break
        pos = (item as { range?: [number, number, number] }).range?.[0] ?? pos
        node = item
      } else break
    }
    return pos === undefined ? undefined : lineColumnAt(text, pos)
  }
}
