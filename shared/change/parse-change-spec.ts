// Reading a change spec file (YAML or JSON) into a Change, with errors that point at the line.
// In YAML, `!secret <value>` marks a secret; it reads as `{ $secret: <value> }`, the JSON form,
// so both formats go through the same validation. Parse errors never quote the source text:
// the broken line may be the one holding a secret.
import { isMap, isSeq, parseDocument, type Document, type ScalarTag } from 'yaml'
import { EditError, YamlParseError } from '../edit/errors.js'
import { lineColumnAt } from '../edit/text-lines.js'
import { keyName, parseYamlDocument } from '../edit/yaml-document.js'
import type { Change } from './change.js'
import { ChangeSpecSyntaxError } from './errors.js'
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

/**
 * Parses and validates a change spec, with `defaults` (the agent's) where it is silent. Throws ChangeSpecSyntaxError (with line and column) when
 * the text does not parse, ChangeValidationError (every problem, with lines) when it is not a
 * valid change.
 */
export function parseChangeSpec (text: string, format: SpecFormat, defaults?: ChangeDefaults): Change {
  const { value, locate } = format === 'json' ? readJson(text) : readYaml(text)
  return validateChange(value, { locate, ...(defaults === undefined ? {} : { defaults }) })
}

function readYaml (text: string): { value: unknown, locate: Locate } {
  let doc: Document.Parsed
  try {
    doc = parseYamlDocument(text, { customTags: [SECRET_TAG] })
  } catch (err) {
    if (!(err instanceof EditError)) throw err
    if (err instanceof YamlParseError) throw new ChangeSpecSyntaxError(err.reason, { line: err.line, column: err.column })
    throw new ChangeSpecSyntaxError(err.message)
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
  return { value: doc.toJS(), locate: locator(doc, text) }
}

function readJson (text: string): { value: unknown, locate: Locate } {
  // JSON is YAML 1.2 flow syntax: the yaml parser gives positions for errors and for fields.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    // JSON.parse's message quotes the input around the error; only its position is used.
    const yamlPos = doc.errors[0]?.linePos?.[0]
    const offset = /position (\d+)/.exec((err as Error).message)?.[1]
    const pos = yamlPos !== undefined
      ? { line: yamlPos.line, column: yamlPos.col }
      : offset === undefined ? {} : lineColumnAt(text, Number(offset))
    throw new ChangeSpecSyntaxError('not valid JSON (check quotes, commas and brackets)', pos)
  }
  const duplicate = doc.errors.find(e => e.code === 'DUPLICATE_KEY')
  if (duplicate !== undefined) {
    const pos = duplicate.linePos?.[0]
    throw new ChangeSpecSyntaxError('a key appears twice in the same object', pos === undefined ? {} : { line: pos.line, column: pos.col })
  }
  return { value, locate: doc.errors.length === 0 ? locator(doc, text) : () => undefined }
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
