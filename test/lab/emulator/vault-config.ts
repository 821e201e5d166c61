// The `hsm.hashicorp.vault` section: HashiCorp Vault's transit engine as the HSM that seals the
// REK. The emulator has no Vault client; the section drives an offline stand-in
// (vault-standin-hsm.ts), so the checks stay modest: the shape real minkms configs use, with
// exactly one auth method. Auth values are secret and never appear in a message.
import { invalid, isMapping, onlyKeys, requiredString, type Mapping } from './config-fields.js'

/** How the node authenticates to Vault; every value is treated as secret. */
export type VaultAuth =
  | { method: 'approle', id: string, secret: string }
  /** `jwt`: the path of the service-account token, as configured (the stand-in never reads it). */
  | { method: 'kubernetes', role: string, jwt: string }

export interface VaultHsmConfig {
  /** The server's origin, `http[s]://host[:port]`. */
  server: string
  /** Mount path of the transit engine (default `transit`). */
  engine: string
  /** Name of the transit key that seals the REK. */
  key: string
  auth: VaultAuth
}

const WHERE = 'hsm.hashicorp.vault.'
const AUTH_METHODS = ['approle', 'kubernetes'] as const

function parseServer (path: string, m: Mapping): string {
  const raw = requiredString(path, m, 'server', WHERE)
  let url: URL | undefined
  try { url = new URL(raw.trim()) } catch { url = undefined }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' ||
    (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' ||
    url.username !== '' || url.password !== '') {
    throw invalid(path, `'${WHERE}server' is not an http(s) URL (expected http[s]://HOST[:PORT])`)
  }
  return url.origin
}

function section (path: string, m: Mapping, name: string, fields: readonly string[]): Mapping {
  const v = m[name]
  if (!isMapping(v)) throw invalid(path, `'${WHERE}${name}' must be a mapping with ${fields.map((f) => `'${f}'`).join(' and ')}`)
  onlyKeys(path, v, `${WHERE}${name}.`, fields)
  return v
}

function parseAuth (path: string, m: Mapping): VaultAuth {
  const given = AUTH_METHODS.filter((a) => m[a] !== undefined)
  if (given.length === 0) throw invalid(path, "'hsm.hashicorp.vault' needs an auth method: 'approle' or 'kubernetes'")
  if (given.length > 1) throw invalid(path, "'hsm.hashicorp.vault' takes one auth method, not both 'approle' and 'kubernetes'")
  if (given[0] === 'approle') {
    const a = section(path, m, 'approle', ['id', 'secret'])
    return { method: 'approle', id: requiredString(path, a, 'id', `${WHERE}approle.`), secret: requiredString(path, a, 'secret', `${WHERE}approle.`) }
  }
  const k = section(path, m, 'kubernetes', ['role', 'jwt'])
  return { method: 'kubernetes', role: requiredString(path, k, 'role', `${WHERE}kubernetes.`), jwt: requiredString(path, k, 'jwt', `${WHERE}kubernetes.`) }
}

/** Validates the body of `hsm.hashicorp.vault`. Throws FatalError. */
export function parseVaultHsm (path: string, m: unknown): VaultHsmConfig {
  if (!isMapping(m)) throw invalid(path, "'hsm.hashicorp.vault' must be a mapping")
  onlyKeys(path, m, WHERE, ['server', ...AUTH_METHODS, 'transit'])
  const server = parseServer(path, m)
  const auth = parseAuth(path, m)
  if (m.transit === undefined || m.transit === null) throw invalid(path, `'${WHERE}transit.key' is required`)
  const transit = section(path, m, 'transit', ['engine', 'key'])
  const key = requiredString(path, transit, 'key', `${WHERE}transit.`)
  const engine = transit.engine === undefined || transit.engine === null ? 'transit' : requiredString(path, transit, 'engine', `${WHERE}transit.`)
  return { server, engine, key, auth }
}
