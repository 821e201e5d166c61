// Secrets already in the files, old or new, found so a diff can mask them even when the change
// itself does not carry them (the HSM key being removed, an auth.key left as it is). Each secret
// is returned with the source forms it takes in the text (quoted, escaped, split over lines) so
// every form is masked with the same fingerprint.
import { isMap, isScalar, isSeq, type Node } from 'yaml'
import { parseEnvFile } from '../edit/env-parse.js'
import { keyName, parseYamlDocument } from '../edit/yaml-document.js'
import { findSecretLikeValues, isSecretConfigPath, isSecretEnvName } from '../secrets/patterns.js'
import type { RedactEntry } from '../secrets/redact-text.js'

// Pieces shorter than this (a lone quote from a split line) would mask unrelated text everywhere.
const MIN_FRAGMENT = 4

/** Secret values in a YAML text: whole values at secret paths (auth.key, password, …), and every key lookalike. Never throws. */
export function secretsInYaml (text: string): RedactEntry[] {
  let root: unknown
  try {
    root = parseYamlDocument(text).contents
  } catch {
    return [] // an unparsable text is still covered by redactText's key patterns
  }
  const out: RedactEntry[] = []
  const walk = (node: unknown, path: string[], secretPath: boolean): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = keyName(pair.key)
        if (key === undefined) continue
        const next = [...path, key]
        walk(pair.value, next, isSecretConfigPath(next))
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item, path, secretPath)
    } else if (isScalar(node) && node.value !== null && node.value !== '') {
      const value = String(node.value)
      if (secretPath) out.push(...withSourceForms(value, sourceOf(text, node)))
      else out.push(...findSecretLikeValues(value))
    }
  }
  walk(root, [], false)
  return out
}

/** Secret values in an EnvironmentFile: whole values of secret-named variables (`export` lines too), and every key lookalike. */
export function secretsInEnv (text: string): RedactEntry[] {
  const out: RedactEntry[] = []
  for (const a of parseEnvFile(text).assignments) {
    if (a.value === '') continue
    // A secret name hides the whole value; elsewhere only the keys inside it (`--api-key k1:…`).
    if (isSecretEnvName(a.exported ?? a.key)) out.push(...withSourceForms(a.value, text.slice(a.valueStart, a.valueEnd)))
    else out.push(...findSecretLikeValues(a.value))
  }
  return out
}

// Source forms are needed only where the value does not appear verbatim (escapes, line breaks);
// a plainly quoted value is masked inside its quotes, which keeps the line readable.
function withSourceForms (value: string, source: string): RedactEntry[] {
  const entries: RedactEntry[] = [value]
  const sourcePieces = source.includes(value) ? [] : [source, ...source.split(/\r?\n|\r/)]
  for (const piece of [...sourcePieces, ...value.split(/\r?\n|\r/)]) {
    const trimmed = piece.trim()
    if (trimmed.length >= MIN_FRAGMENT && trimmed !== value) entries.push({ text: trimmed, secret: value })
  }
  return entries
}

function sourceOf (text: string, node: Node): string {
  const range = node.range
  return range == null ? '' : text.slice(range[0], range[1])
}
