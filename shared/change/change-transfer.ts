// The form in which a validated Change crosses to a worker thread of the same process and back.
// A Secret keeps its value in a private field, which structured clone drops (it would arrive as an
// empty object), so each value is tagged: `secret` carries the clear text, and only this module
// turns it back into a Secret on the other side. The form holds secrets in clear: it is for
// postMessage between threads of one process only, never for a log, an event, a file or a response.
// Nothing here validates: only a Change made by validateChange is encoded, and a decoded one is
// the same change (same keys in the same order, same Secrets, frozen).
import { Secret, isSecret } from '../secrets/secret.js'
import { deepFreeze, type Change, type ConfigValue } from './change.js'
import type { RestartPolicy } from './schema.js'

/** One value of a change, tagged so that a Secret survives structured clone. */
export type ValueTransfer =
  | { readonly kind: 'plain', readonly value: null | boolean | number | string }
  | { readonly kind: 'secret', readonly clear: string }
  | { readonly kind: 'list', readonly items: readonly ValueTransfer[] }
  | { readonly kind: 'map', readonly entries: ReadonlyArray<readonly [string, ValueTransfer]> }

/** A Change between threads. HOLDS SECRETS IN CLEAR: postMessage within the process only. */
export interface ChangeTransfer {
  readonly revision: number
  readonly files: {
    readonly config?: { readonly set: ReadonlyArray<readonly [string, ValueTransfer]>, readonly delete: readonly string[], readonly mode?: number }
    readonly env?: { readonly set: ReadonlyArray<readonly [string, ValueTransfer]>, readonly unset: readonly string[], readonly mode?: number }
  }
  readonly restart: RestartPolicy
  readonly verify: { readonly deadlineMs: number, readonly stableForMs: number }
}

/** The transfer form of `change` (its spec locator stays behind: a function cannot cross). */
export function encodeChange (change: Change): ChangeTransfer {
  const { config, env } = change.files
  return {
    revision: change.revision,
    files: {
      ...(config === undefined ? {} : { config: { set: Object.entries(config.set).map(([p, v]) => [p, encodeValue(v)] as const), delete: [...config.delete], ...modeOf(config.mode) } }),
      ...(env === undefined ? {} : { env: { set: Object.entries(env.set).map(([k, v]) => [k, encodeValue(v)] as const), unset: [...env.unset], ...modeOf(env.mode) } })
    },
    restart: change.restart,
    verify: { deadlineMs: change.verify.deadlineMs, stableForMs: change.verify.stableForMs }
  }
}

/** The Change a transfer form was made from: Secrets wrapped again, deep-frozen. */
export function decodeChange (t: ChangeTransfer): Change {
  const { config, env } = t.files
  return deepFreeze({
    revision: t.revision,
    files: {
      ...(config === undefined ? {} : { config: { set: Object.fromEntries(config.set.map(([p, v]) => [p, decodeValue(v)])), delete: [...config.delete], ...modeOf(config.mode) } }),
      ...(env === undefined ? {} : { env: { set: Object.fromEntries(env.set.map(([k, v]) => [k, decodeEnvValue(v)])), unset: [...env.unset], ...modeOf(env.mode) } })
    },
    restart: t.restart,
    verify: { deadlineMs: t.verify.deadlineMs, stableForMs: t.verify.stableForMs }
  })
}

function encodeValue (v: ConfigValue): ValueTransfer {
  if (isSecret(v)) return { kind: 'secret', clear: v.reveal() }
  if (Array.isArray(v)) return { kind: 'list', items: v.map(encodeValue) }
  if (typeof v === 'object' && v !== null) return { kind: 'map', entries: Object.entries(v).map(([k, x]) => [k, encodeValue(x as ConfigValue)] as const) }
  return { kind: 'plain', value: v as null | boolean | number | string }
}

function decodeValue (v: ValueTransfer): ConfigValue {
  switch (v.kind) {
    case 'secret': return new Secret(v.clear)
    case 'list': return v.items.map(decodeValue)
    case 'map': return Object.fromEntries(v.entries.map(([k, x]) => [k, decodeValue(x)]))
    case 'plain': return v.value
  }
}

function decodeEnvValue (v: ValueTransfer): string | Secret {
  if (v.kind === 'secret') return new Secret(v.clear)
  if (v.kind === 'plain' && typeof v.value === 'string') return v.value
  throw new TypeError(`an env value crossed as ${v.kind}; only strings and secrets can`)
}

function modeOf (mode: number | undefined): { mode?: number } {
  return mode === undefined ? {} : { mode }
}
