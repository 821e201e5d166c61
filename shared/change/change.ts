// The validated form of a change, as the agent applies it: defaults filled in, durations in
// milliseconds, every secret wrapped in a Secret so that logging or serialising the change cannot
// leak it, and deep-frozen (validated once at the edge, then immutable, so no layer further in sees a different change).
import type { YamlValue } from '../edit/yaml-model.js'
import { isSecret, type Secret } from '../secrets/secret.js'
import { formatDuration } from './duration.js'
import type { ChangeSpec, RestartPolicy } from './schema.js'
import type { Locate } from './schema-problems.js'

/** A config value with secrets wrapped. */
export type ConfigValue = null | boolean | number | string | Secret | readonly ConfigValue[] | { readonly [key: string]: ConfigValue }

/** Edits of the YAML config. */
export interface ConfigChange {
  /** Dotted path → value, in spec order. */
  readonly set: Readonly<Record<string, ConfigValue>>
  /** Dotted paths to remove. */
  readonly delete: readonly string[]
  /** File mode to set (e.g. 0o600); absent: the file keeps its mode. */
  readonly mode?: number
}

/** Edits of the EnvironmentFile. */
export interface EnvChange {
  /** Name → value, in spec order; secret values are Secrets. */
  readonly set: Readonly<Record<string, string | Secret>>
  /** Names to remove. */
  readonly unset: readonly string[]
  /** File mode to set (e.g. 0o600); absent: the file keeps its mode. */
  readonly mode?: number
}

/** A validated, defaulted, frozen change (see validate-change.ts). */
export interface Change {
  /** Revision number, ≥ 1. */
  readonly revision: number
  /** The files it edits; an absent file is not touched. */
  readonly files: { readonly config?: ConfigChange, readonly env?: EnvChange }
  /** When to restart the unit. */
  readonly restart: RestartPolicy
  /** Restart verification window, in milliseconds. */
  readonly verify: { readonly deadlineMs: number, readonly stableForMs: number }
  /**
   * Where a value path of the spec stands in the text the operator wrote (1-based line and
   * column), when the change came from a spec text; lets a problem found later (in the file the
   * change would produce) name the spec's line. Not enumerable: never serialised or compared.
   */
  readonly locate?: Locate
}

/** `change` with its spec locator attached (not enumerable, so JSON and hashes ignore it). */
export function withSource (change: Change, locate: NonNullable<Change['locate']>): Change {
  const c = { ...change }
  Object.defineProperty(c, 'locate', { value: locate, enumerable: false })
  return Object.freeze(c)
}

/** The plain YAML value of a config value: Secrets revealed. Only for writing the file. */
export function revealConfigValue (v: ConfigValue): YamlValue {
  if (isSecret(v)) return v.reveal()
  if (Array.isArray(v)) return v.map(revealConfigValue)
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revealConfigValue(x as ConfigValue)]))
  return v as YamlValue
}

/** Every Secret in a change (config values at any depth, env values). */
export function changeSecrets (change: Change): Secret[] {
  const out: Secret[] = []
  const walk = (v: unknown): void => {
    if (isSecret(v)) out.push(v)
    else if (Array.isArray(v)) v.forEach(walk)
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk)
  }
  walk(change.files.config?.set)
  walk(change.files.env?.set)
  return out
}

/**
 * The wire form of a change, with secrets as `{ "$secret": "…" }`. This REVEALS secrets: use it
 * only to send a change to an agent over mutual TLS, never for logs, events or API views.
 */
export function toChangeSpec (change: Change): ChangeSpec {
  const toWire = (v: ConfigValue): unknown => {
    if (isSecret(v)) return { $secret: v.reveal() }
    if (Array.isArray(v)) return v.map(toWire)
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x as ConfigValue)]))
    return v
  }
  const { config, env } = change.files
  return {
    revision: change.revision,
    files: {
      ...(config === undefined ? {} : { config: { set: Object.fromEntries(Object.entries(config.set).map(([p, v]) => [p, toWire(v)])), delete: [...config.delete], ...modeOf(config.mode) } }),
      ...(env === undefined ? {} : { env: { set: Object.fromEntries(Object.entries(env.set).map(([k, v]) => [k, isSecret(v) ? { $secret: v.reveal() } : v])), unset: [...env.unset], ...modeOf(env.mode) } })
    },
    restart: change.restart,
    verify: { deadline: formatDuration(change.verify.deadlineMs), stableFor: formatDuration(change.verify.stableForMs) }
  }
}

function modeOf (mode: number | undefined): { mode?: string } {
  return mode === undefined ? {} : { mode: `0${mode.toString(8).padStart(3, '0')}` }
}

/** Freezes `v` and everything reachable from it (Secrets are already immutable). */
export function deepFreeze<T> (v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}
