// minkms endpoints as operators write them: `host:port`, `host` (port 7373), `[::1]:7373`, or an
// https URL (MINIO_KMS_SERVER style). TLS is mandatory for minkms, so http:// is refused.
import { InvalidClientConfigError } from './errors.js'

/** The default minkms port. */
export const DEFAULT_MINKMS_PORT = 7373

/** A parsed endpoint. */
export interface Endpoint {
  /** `https://host:port`, what the HTTPS client connects to. */
  origin: string
  /** `host:port` as used in error messages and MinkmsError.host. */
  host: string
}

/** Parses one endpoint; throws InvalidClientConfigError when it is not a usable https address. */
export function parseEndpoint (s: string): Endpoint {
  const text = s.trim()
  if (text === '') throw new InvalidClientConfigError('empty minkms endpoint')
  let url: URL
  try {
    url = new URL(text.includes('://') ? text : `https://${text}`)
  } catch {
    throw new InvalidClientConfigError(`invalid minkms endpoint "${text}"`)
  }
  if (url.protocol !== 'https:') throw new InvalidClientConfigError(`minkms endpoint "${text}" must use https`)
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new InvalidClientConfigError(`minkms endpoint "${text}" must be host[:port] without path, query or credentials`)
  }
  const port = url.port === '' ? DEFAULT_MINKMS_PORT : Number(url.port)
  const host = `${url.hostname}:${port}`
  return { origin: `https://${host}`, host }
}

/** Parses a list of endpoints; at least one is required and duplicates are dropped. */
export function parseEndpoints (list: readonly string[]): Endpoint[] {
  const seen = new Map<string, Endpoint>()
  for (const s of list) {
    const e = parseEndpoint(s)
    if (!seen.has(e.origin)) seen.set(e.origin, e)
  }
  if (seen.size === 0) throw new InvalidClientConfigError('at least one minkms endpoint is required')
  return [...seen.values()]
}
