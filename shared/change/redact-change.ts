// Safe views of a change for API responses, events, logs and the coordinator's database: every
// secret shows as `***<fingerprint>` (an operator can compare two plans by fingerprint without seeing the value).
import { maskSecret } from '../secrets/fingerprint.js'
import { isSecret } from '../secrets/secret.js'
import type { Change, ConfigValue } from './change.js'
import { formatDuration } from './duration.js'
import type { ChangeView } from './schema.js'

/**
 * The change with every secret replaced by `***<fingerprint>` under `key` (plain `***` without a
 * key). Safe to serialise anywhere.
 */
export function redactChange (change: Change, key?: Uint8Array | string): ChangeView {
  const mask = (v: ConfigValue): unknown => {
    if (isSecret(v)) return maskSecret(v, key)
    if (Array.isArray(v)) return v.map(mask)
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x as ConfigValue)]))
    return v
  }
  const { config, env } = change.files
  return {
    revision: change.revision,
    files: {
      ...(config === undefined ? {} : { config: { set: Object.fromEntries(Object.entries(config.set).map(([p, v]) => [p, mask(v)])), delete: [...config.delete] } }),
      ...(env === undefined ? {} : { env: { set: Object.fromEntries(Object.entries(env.set).map(([k, v]) => [k, isSecret(v) ? maskSecret(v, key) : v])), unset: [...env.unset] } })
    },
    restart: change.restart,
    verify: { deadline: formatDuration(change.verify.deadlineMs), stableFor: formatDuration(change.verify.stableForMs) },
    redacted: true
  }
}

/**
 * One line saying what a change does, naming paths and variables but no values:
 * `revision 12: config set hsm.minio.minkms; env unset MINIO_KMS_HSM_KEY; restart on-change; verify 60s (stable 5s)`.
 */
export function describeChange (change: Change): string {
  const parts: string[] = []
  const { config, env } = change.files
  const list = (verb: string, items: readonly string[]): string[] => items.length === 0 ? [] : [`${verb} ${items.join(', ')}`]
  const configParts = config === undefined ? [] : [...list('set', Object.keys(config.set)), ...list('delete', config.delete)]
  const envParts = env === undefined ? [] : [...list('set', Object.keys(env.set)), ...list('unset', env.unset)]
  if (configParts.length > 0) parts.push(`config ${configParts.join(', ')}`)
  if (envParts.length > 0) parts.push(`env ${envParts.join(', ')}`)
  if (parts.length === 0) parts.push('no file edits')
  parts.push(`restart ${change.restart}`)
  parts.push(`verify ${formatDuration(change.verify.deadlineMs)} (stable ${formatDuration(change.verify.stableForMs)})`)
  return `revision ${change.revision}: ${parts.join('; ')}`
}
