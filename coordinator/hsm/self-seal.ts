// A cluster must not seal its root key with itself: an external server list naming one of the
// cluster's own nodes would put the key that opens the cluster's database inside that database.
// Compared as host:port, case-insensitive, with minkms's default port 7373 filled in; a node
// reached under another name (DNS name vs address) is not recognised here, which preflight's
// per-node checks do not catch either, so the operator's list is taken as written.
import type { NodeRef } from '../ports/node-ref.js'

const DEFAULT_PORT = '7373'

/** `host:port` in one form: lower case, brackets kept for IPv6, port 7373 when none. */
export function normalizeEndpoint (endpoint: string): string {
  const e = endpoint.trim().toLowerCase()
  if (e.startsWith('[')) {
    const close = e.indexOf(']')
    if (close < 0) return e
    const port = e.slice(close + 1).replace(/^:/, '')
    return `${e.slice(0, close + 1)}:${port === '' ? DEFAULT_PORT : port}`
  }
  const parts = e.split(':')
  if (parts.length === 2) return `${parts[0] ?? ''}:${parts[1] === '' ? DEFAULT_PORT : parts[1] ?? ''}`
  if (parts.length === 1) return `${e}:${DEFAULT_PORT}`
  return `[${e}]:${DEFAULT_PORT}` // a bare IPv6 address
}

/** The external servers that are one of `nodes`' minkms endpoints, each with the node it names. */
export function selfSealingServers (external: readonly string[], nodes: readonly NodeRef[]): Array<{ server: string, node: string }> {
  const byEndpoint = new Map(nodes.map((n) => [normalizeEndpoint(n.minkms), n.name]))
  return external.flatMap((server) => {
    const node = byEndpoint.get(normalizeEndpoint(server))
    return node === undefined ? [] : [{ server, node }]
  })
}
