// Field checks shared by the config sections' parsers (config.ts, vault-config.ts). Every message
// names the field, never its value, so a secret in the file cannot reach a FATAL line.
import { FatalError } from './fatal-error.js'

export type Mapping = Record<string, unknown>

export function isMapping (v: unknown): v is Mapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Builds the error for a problem inside the file. */
export function invalid (path: string, what: string): FatalError {
  return new FatalError(`kms: invalid config file '${path}': ${what}`)
}

export function onlyKeys (path: string, m: Mapping, where: string, allowed: readonly string[]): void {
  for (const k of Object.keys(m)) {
    if (!allowed.includes(k)) throw invalid(path, `unknown field '${where}${k}'`)
  }
}

export function requiredString (path: string, m: Mapping, key: string, where: string): string {
  const v = m[key]
  if (v === undefined || v === null || v === '') throw invalid(path, `'${where}${key}' is required`)
  if (typeof v !== 'string') throw invalid(path, `'${where}${key}' must be a string`)
  return v
}
