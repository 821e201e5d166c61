// The `--config` YAML file: parsed and validated once, at start, into a frozen EmulatorConfig.
// Error texts: the three documented by minkms where they apply, clear
// ones of our own elsewhere (all listed in README.md). Secrets in the file are never echoed.
import { readFile } from 'node:fs/promises'
import { parseDocument } from 'yaml'
import { parseApiKey } from '../../../shared/minkms/keys.js'
import { invalid, isMapping, onlyKeys, requiredString } from './config-fields.js'
import { FatalError, describeError } from './fatal-error.js'
import { parseVaultHsm, type VaultHsmConfig } from './vault-config.js'

/** `hsm.minio.minkms`: another Key Manager holds the key that seals this node's REK. */
export interface ExternalKmsHsmConfig {
  /** `host:port` of each server, tried in this order. */
  servers: readonly string[]
  enclave: string
  /** Name of the key on the external Key Manager. */
  key: string
  /** `k1:`/`k2:` API key used to authenticate to the external Key Manager (secret). */
  apiKey: string
}

export interface TlsConfig {
  certs: ReadonlyArray<{ key: string, cert: string }>
  /** A CA file or a directory of PEM CA files; trust for outgoing calls. */
  ca?: string
}

export interface EmulatorConfig {
  /** The file it came from, for messages. */
  path: string
  tls: TlsConfig
  /** `admin.identity`: an extra SysAdmin identity. */
  adminIdentity?: string
  externalHsm?: ExternalKmsHsmConfig
  /** `hsm.hashicorp.vault`, run by an offline stand-in (no Vault is called). */
  vaultHsm?: VaultHsmConfig
  /** Non-fatal remarks (ignored sections), logged as WARN. */
  warnings: readonly string[]
}

const TOP_LEVEL = new Set(['version', 'admin', 'tls', 'hsm'])
/** Sections seen in third-party files; accepted and ignored with a warning. */
const IGNORED_TOP_LEVEL = new Set(['log', 'cache', 'datastore', 'cluster'])
const H1 = /^h1:[A-Za-z0-9_-]{43}$/

/** `host:port` from `host:port`, `host` or `https://host:port`; undefined when malformed. */
export function normaliseServer (s: string): string | undefined {
  const text = s.trim()
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `https://${text}`
  let url: URL
  try { url = new URL(withScheme) } catch { return undefined }
  if (url.protocol !== 'https:' || url.hostname === '' || (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' || url.username !== '') return undefined
  return `${url.hostname}:${url.port === '' ? '7373' : url.port}`
}

function parseTls (path: string, tls: unknown): TlsConfig {
  if (tls === undefined || tls === null) throw new FatalError('kms: no TLS configuration provided')
  if (!isMapping(tls)) throw invalid(path, "'tls' must be a mapping")
  onlyKeys(path, tls, 'tls.', ['certs', 'ca'])
  const certs = tls.certs
  if (certs === undefined || certs === null || (Array.isArray(certs) && certs.length === 0)) {
    throw new FatalError('kms: no server certificate provided')
  }
  if (!Array.isArray(certs)) throw invalid(path, "'tls.certs' must be a list of {key, cert}")
  const out = certs.map((c: unknown, i) => {
    const where = `tls.certs[${i}].`
    if (!isMapping(c)) throw invalid(path, `'tls.certs[${i}]' must be a mapping with 'key' and 'cert'`)
    onlyKeys(path, c, where, ['key', 'cert'])
    return { key: requiredString(path, c, 'key', where), cert: requiredString(path, c, 'cert', where) }
  })
  const result: TlsConfig = { certs: out }
  if (tls.ca !== undefined && tls.ca !== null && tls.ca !== '') {
    if (typeof tls.ca !== 'string') throw invalid(path, "'tls.ca' must be a path")
    result.ca = tls.ca
  }
  return result
}

function parseExternalKms (path: string, m: unknown): ExternalKmsHsmConfig {
  const where = 'hsm.minio.minkms.'
  if (!isMapping(m)) throw invalid(path, "'hsm.minio.minkms' must be a mapping")
  onlyKeys(path, m, where, ['server', 'enclave', 'key', 'auth'])
  const raw = typeof m.server === 'string' ? [m.server] : m.server
  if (raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0)) {
    throw invalid(path, `'${where}server' needs at least one server`)
  }
  if (!Array.isArray(raw)) throw invalid(path, `'${where}server' must be a list of HOST:PORT`)
  const servers = raw.map((s: unknown, i) => {
    const n = typeof s === 'string' ? normaliseServer(s) : undefined
    if (n === undefined) throw invalid(path, `'${where}server[${i}]' is not a valid HOST:PORT`)
    return n
  })
  const enclave = requiredString(path, m, 'enclave', where)
  const key = requiredString(path, m, 'key', where)
  if (m.auth === undefined || m.auth === null) throw invalid(path, `'${where}auth.key' is required`)
  if (!isMapping(m.auth)) throw invalid(path, `'${where}auth' must be a mapping`)
  onlyKeys(path, m.auth, `${where}auth.`, ['key'])
  const apiKey = requiredString(path, m.auth, 'key', `${where}auth.`)
  try {
    parseApiKey(apiKey)
  } catch {
    throw invalid(path, `'${where}auth.key' is not a valid API key (expected k1:… or k2:…)`)
  }
  return { servers, enclave, key, apiKey }
}

const SUPPORTED = 'the emulator supports hsm.minio.minkms and hsm.hashicorp.vault'
/** The `hsm.<vendor>.<kind>` blocks the emulator runs. */
const KINDS = new Map([['minio', 'minkms'], ['hashicorp', 'vault']])

interface HsmBlocks { externalHsm?: ExternalKmsHsmConfig, vaultHsm?: VaultHsmConfig }

function parseHsm (path: string, hsm: unknown): HsmBlocks {
  const out: HsmBlocks = {}
  if (hsm === undefined || hsm === null) return out
  if (!isMapping(hsm)) throw invalid(path, "'hsm' must be a mapping")
  for (const [vendor, body] of Object.entries(hsm)) {
    const supported = KINDS.get(vendor)
    if (supported === undefined) throw invalid(path, `HSM 'hsm.${vendor}' is not supported (${SUPPORTED})`)
    if (body === null) continue
    if (!isMapping(body)) throw invalid(path, `'hsm.${vendor}' must be a mapping`)
    for (const [kind, conf] of Object.entries(body)) {
      if (kind !== supported) throw invalid(path, `HSM 'hsm.${vendor}.${kind}' is not supported (${SUPPORTED})`)
      if (conf === null) continue
      if (vendor === 'minio') out.externalHsm = parseExternalKms(path, conf)
      else out.vaultHsm = parseVaultHsm(path, conf)
    }
  }
  return out
}

/** Validates the text of a config file. Throws FatalError. */
export function parseConfig (text: string, path: string): EmulatorConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false })
  const first = doc.errors[0]
  if (first !== undefined) throw invalid(path, first.message.split('\n')[0] ?? 'YAML syntax error')
  const root: unknown = doc.toJS()
  if (!isMapping(root)) throw invalid(path, 'the document is not a YAML mapping')
  const warnings: string[] = []
  for (const k of Object.keys(root)) {
    if (IGNORED_TOP_LEVEL.has(k)) warnings.push(`config: section '${k}' is ignored by the emulator`)
    else if (!TOP_LEVEL.has(k)) throw invalid(path, `unknown field '${k}'`)
  }
  if (root.version === undefined || root.version === null) throw invalid(path, "'version' is required (version: v1)")
  if (root.version !== 'v1') throw invalid(path, `unsupported version '${String(root.version)}' (supported: v1)`)
  let adminIdentity: string | undefined
  if (root.admin !== undefined && root.admin !== null) {
    if (!isMapping(root.admin)) throw invalid(path, "'admin' must be a mapping")
    onlyKeys(path, root.admin, 'admin.', ['identity'])
    const id = root.admin.identity
    if (id !== undefined && id !== null) {
      if (typeof id !== 'string' || !H1.test(id)) throw invalid(path, "'admin.identity' is not an h1: identity")
      adminIdentity = id
    }
  }
  const tls = parseTls(path, root.tls)
  const { externalHsm, vaultHsm } = parseHsm(path, root.hsm)
  return Object.freeze({
    path,
    tls,
    warnings,
    ...(adminIdentity !== undefined && { adminIdentity }),
    ...(externalHsm !== undefined && { externalHsm }),
    ...(vaultHsm !== undefined && { vaultHsm })
  })
}

/** Reads and validates `--config`; no file means no TLS configuration. Throws FatalError. */
export async function loadConfig (path: string | undefined): Promise<EmulatorConfig> {
  if (path === undefined) throw new FatalError('kms: no TLS configuration provided')
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new FatalError(`kms: failed to read config file '${path}': ${describeError(err)}`, { cause: err })
  }
  return parseConfig(text, path)
}
