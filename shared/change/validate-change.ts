// From an untrusted value (a parsed spec file, an HTTP body) to a Change. Every problem is
// collected before failing, so one error lists all of them, each with its path and what to do.
// Secrets are recognised three ways: marked (`$secret` / `!secret`), by name (env names with
// KEY/SECRET/PASSWORD/TOKEN, config keys such as auth.key or password), or by looking like an API
// or HSM key. The last two are defence in depth against a spec author who forgot to mark one.
import { isReservedKey, parseDottedPath, formatDottedPath } from '../edit/dotted-path.js'
import { envValueProblem } from '../edit/env-quote.js'
import { EditError } from '../edit/errors.js'
import type { Problem } from '../edit/problem.js'
import { isSecretConfigPath, isSecretEnvName, looksLikeSecretValue } from '../secrets/patterns.js'
import { Secret } from '../secrets/secret.js'
import { deepFreeze, withSource, type Change, type ConfigValue } from './change.js'
import { DURATION_PATTERN, parseDuration, verifyWindowMsProblems } from './duration.js'
import { ChangeValidationError } from './errors.js'
import { checkChangeLimits } from './limits.js'
import { CHANGE_DEFAULTS, ChangeSpecSchema, type ChangeSpec, type SecretRef } from './schema.js'
import { formatValuePath, schemaProblems, withLocation, type Locate, type ValuePath } from './schema-problems.js'

/**
 * What a change that does not say gets: the restart verification window. The agent passes the
 * `verify` of its own config; without it the change model's defaults (60 s, 5 s) apply.
 */
export interface ChangeDefaults {
  verify: { deadlineMs: number, stableForMs: number }
}

/** The change model's own defaults. */
export const MODEL_DEFAULTS: ChangeDefaults = {
  verify: { deadlineMs: parseDuration(CHANGE_DEFAULTS.deadline) ?? 60_000, stableForMs: parseDuration(CHANGE_DEFAULTS.stableFor) ?? 5000 }
}

/** Options of {@link validateChange}. */
export interface ValidateOptions {
  /** Source lines of value paths (spec files); problems and Change.locate use it. */
  locate?: Locate
  /** Defaults for what the change leaves out (default {@link MODEL_DEFAULTS}). */
  defaults?: ChangeDefaults
}

/**
 * Validates `value` against {@link ChangeSpecSchema} and the change rules, and returns the frozen
 * Change, with `defaults` where the change is silent. Throws ChangeValidationError listing every
 * problem; `locate` adds source lines. This is the one place a change becomes a Change: the API
 * and the CLI call it at the edge and hand the Change inward, so no default is applied twice.
 */
export function validateChange (value: unknown, opts: ValidateOptions = {}): Change {
  const locate = opts.locate ?? (() => undefined)
  const defaults = opts.defaults ?? MODEL_DEFAULTS
  // First, so nothing below recurses into a value nested without bound or loops over a huge one.
  checkChangeLimits(value)
  const problems = [...schemaProblems(ChangeSpecSchema, value, locate), ...ruleProblems(value, locate, defaults)]
  if (problems.length > 0) throw new ChangeValidationError(problems)
  return normalize(value as ChangeSpec, defaults, opts.locate)
}

/** True for `{ "$secret": "<string>" }` and nothing else. */
export function isSecretRef (v: unknown): v is SecretRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 &&
    typeof (v as { $secret?: unknown }).$secret === 'string'
}

// Rules the schema cannot say. Written defensively: the value may also break the schema, and its
// problems are reported alongside these.
function ruleProblems (value: unknown, locate: Locate, defaults: ChangeDefaults): Problem[] {
  const problems: Problem[] = []
  const add = (path: ValuePath, message: string): void => { problems.push(withLocation(formatValuePath(path), message, locate(path))) }
  const spec = asObject(value)
  const files = asObject(spec?.files)
  const config = asObject(files?.config)
  const env = asObject(files?.env)

  const paths: Array<{ at: ValuePath, segments: string[], label: string }> = []
  const checkPath = (at: ValuePath, p: unknown, label: string): void => {
    if (typeof p !== 'string' || p === '') return
    try {
      paths.push({ at, segments: parseDottedPath(p), label })
    } catch (err) {
      if (!(err instanceof EditError)) throw err
      add(at, err.message)
    }
  }
  for (const [p, v] of Object.entries(asObject(config?.set) ?? {})) {
    const at = ['files', 'config', 'set', p]
    const bad = textProblem(p)
    if (bad !== undefined) add(at, `the path ${bad}`)
    else checkPath(at, p, `set ${p}`)
    checkConfigValue(v, at, add)
  }
  asArray(config?.delete).forEach((p, i) => {
    const bad = typeof p === 'string' ? textProblem(p) : undefined
    if (bad !== undefined) add(['files', 'config', 'delete', i], `the path ${bad}`)
    else checkPath(['files', 'config', 'delete', i], p, `delete ${String(p)}`)
  })
  for (const [a, b] of overlaps(paths)) {
    add(a.at, `overlaps "${b.label}" (${formatDottedPath(b.segments)}): one path contains the other; combine them into one edit`)
  }

  const envSet = asObject(env?.set) ?? {}
  for (const [k, v] of Object.entries(envSet)) {
    if (isReservedKey(k)) add(['files', 'env', 'set', k], 'is a reserved name (__proto__, constructor and prototype are refused)')
    const raw = isSecretRef(v) ? v.$secret : v
    if (typeof raw !== 'string') continue // the schema reports the type
    const problem = envValueProblem(raw) ?? textProblem(raw)
    if (problem !== undefined) add(['files', 'env', 'set', k], problem)
  }
  asArray(env?.unset).forEach((k, i) => {
    if (typeof k === 'string' && Object.hasOwn(envSet, k)) add(['files', 'env', 'unset', i], `${k} is also in set; a variable is either set or unset`)
  })

  for (const [name, file] of [['config', config], ['env', env]] as const) {
    const mode = file?.mode
    if (typeof mode === 'string' && /^0?[0-7]{3}$/.test(mode) && (parseInt(mode, 8) & 0o600) !== 0o600) {
      add(['files', name, 'mode'], 'the owner must be able to read and write the file (e.g. 0600 or 0640)')
    }
  }

  const verify = asObject(spec?.verify)
  // A malformed duration is the schema's to report; one too large to count is refused here (never
  // read as 0); a bound broken by a default names the field that was given.
  const wellFormed = (d: unknown): boolean => typeof d !== 'string' || new RegExp(DURATION_PATTERN).test(d)
  if (wellFormed(verify?.deadline) && wellFormed(verify?.stableFor)) {
    const deadline = typeof verify?.deadline === 'string' ? parseDuration(verify.deadline) : defaults.verify.deadlineMs
    const stable = typeof verify?.stableFor === 'string' ? parseDuration(verify.stableFor) : defaults.verify.stableForMs
    for (const p of verifyWindowMsProblems(deadline, stable)) add(['verify', p.field === 'stableFor' && verify?.stableFor === undefined ? 'deadline' : p.field], p.message)
  }
  return problems
}

/**
 * Why a string of a change cannot be written as it was sent, or undefined: a NUL (no config or
 * env file holds one; minkms would read a truncated or different key), or a lone UTF-16 surrogate
 * (JSON's `"\ud800"` escape): not Unicode, so an env file would get U+FFFD in its place (silently
 * another value than the one planned and fingerprinted) and a config file a `\ud800` escape that a
 * YAML parser following the spec refuses.
 */
function textProblem (s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain NUL'
  if (LONE_SURROGATE.test(s)) return 'holds a lone UTF-16 surrogate (a \\ud800-\\udfff escape without its pair), which is not Unicode text; send the character itself'
  return undefined
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function checkConfigValue (v: unknown, at: ValuePath, add: (path: ValuePath, message: string) => void): void {
  if (typeof v === 'number' && !Number.isFinite(v)) add(at, 'must be a finite number')
  else if (typeof v === 'string') {
    const bad = textProblem(v)
    if (bad !== undefined) add(at, bad)
  } else if (Array.isArray(v)) v.forEach((x, i) => { checkConfigValue(x, [...at, i], add) })
  else if (typeof v === 'object' && v !== null) {
    if (Object.hasOwn(v, '$secret') && !isSecretRef(v)) {
      add(at, '{ "$secret": … } holds exactly one key, $secret, whose value is a non-empty string')
      return
    }
    if (isSecretRef(v)) {
      if (v.$secret === '') add(at, '$secret must not be empty')
      else checkConfigValue(v.$secret, at, add)
      return
    }
    for (const [k, x] of Object.entries(v)) {
      const badKey = textProblem(k)
      if (isReservedKey(k)) add([...at, k], 'is a reserved name (__proto__, constructor and prototype are refused)')
      else if (badKey !== undefined) add([...at, k], `the key ${badKey}`)
      else checkConfigValue(x, [...at, k], add)
    }
  }
}

/**
 * Pairs (later, earlier) of paths where one contains the other, in the order of the later path and
 * then the earlier one. Near-linear: each path is looked up by its prefixes, never compared with
 * every other path.
 */
function overlaps<P extends { segments: string[] }> (paths: readonly P[]): Array<[P, P]> {
  const out: Array<[P, P]> = []
  const exact = new Map<string, number[]>()
  const under = new Map<string, number[]>()
  // Joined with a separator no escaped segment holds, so distinct paths get distinct keys.
  const key = (segs: readonly string[]): string => segs.map(s => s.replace(/\\/g, '\\\\').replace(/\//g, '\\/')).join('/')
  const push = (m: Map<string, number[]>, k: string, i: number): void => { const l = m.get(k); if (l === undefined) m.set(k, [i]); else l.push(i) }
  paths.forEach((p, i) => {
    const prefixes = p.segments.map((_, n) => key(p.segments.slice(0, n + 1)))
    const own = prefixes[prefixes.length - 1] ?? ''
    const earlier = new Set<number>([...prefixes.flatMap(k => exact.get(k) ?? []), ...(under.get(own) ?? [])])
    for (const j of [...earlier].sort((a, b) => a - b)) out.push([p, paths[j] as P])
    push(exact, own, i)
    for (const k of prefixes) push(under, k, i)
  })
  return out
}

function normalize (spec: ChangeSpec, defaults: ChangeDefaults, locate: Locate | undefined): Change {
  const { config, env } = spec.files
  const given = (d: string | undefined, fallback: number): number => d === undefined ? fallback : parseDuration(d) ?? 0
  const deadlineMs = given(spec.verify?.deadline, defaults.verify.deadlineMs)
  const stableForMs = given(spec.verify?.stableFor, defaults.verify.stableForMs)
  const change: Change = deepFreeze({
    revision: spec.revision,
    files: {
      ...(config === undefined
        ? {}
        : {
            config: {
              set: Object.fromEntries(Object.entries(config.set ?? {}).map(([p, v]) => [p, wrapConfig(v, parseDottedPath(p))])),
              delete: [...(config.delete ?? [])],
              ...(config.mode === undefined ? {} : { mode: parseInt(config.mode, 8) })
            }
          }),
      ...(env === undefined
        ? {}
        : {
            env: {
              set: Object.fromEntries(Object.entries(env.set ?? {}).map(([k, v]) => [k, wrapEnv(k, v)])),
              unset: [...(env.unset ?? [])],
              ...(env.mode === undefined ? {} : { mode: parseInt(env.mode, 8) })
            }
          })
    },
    restart: spec.restart ?? CHANGE_DEFAULTS.restart,
    verify: { deadlineMs, stableForMs }
  })
  return locate === undefined ? change : withSource(change, locate)
}

function wrapConfig (v: unknown, segments: readonly string[]): ConfigValue {
  if (isSecretRef(v)) return new Secret(v.$secret)
  if (typeof v === 'string') return isSecretConfigPath(segments) || looksLikeSecretValue(v) ? new Secret(v) : v
  if (Array.isArray(v)) return v.map(x => wrapConfig(x, segments))
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wrapConfig(x, [...segments, k])]))
  return v as ConfigValue
}

function wrapEnv (key: string, v: string | SecretRef): string | Secret {
  if (isSecretRef(v)) return new Secret(v.$secret)
  return isSecretEnvName(key) || looksLikeSecretValue(v) ? new Secret(v) : v
}

function asObject (v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined
}

function asArray (v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}
