// Who a caller is, from the client certificate it showed in the TLS handshake: the names in its
// subject CN and its DNS subject alternative names. Only a certificate that chained to
// `tls.clientCa` counts (`authorized`). The coordinator asks every client for one but lets those
// without in (operators use tokens), so each of its routes that needs a certificate checks here;
// the agent demands one in the handshake and, with `tls.allowedClients`, checks its names here.
import type { FastifyRequest } from 'fastify'
import type { TLSSocket } from 'node:tls'

/** The names of the request's verified client certificate; undefined without one. */
export type PeerNames = (req: FastifyRequest) => readonly string[] | undefined

/** Reads the names from the request's TLS socket. */
export const tlsPeerNames: PeerNames = req => {
  const socket = req.raw.socket as Partial<TLSSocket>
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined
  const cert = socket.getPeerCertificate()
  if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) return undefined
  const cn = (cert.subject as Record<string, string | string[] | undefined> | undefined)?.CN
  const names = Array.isArray(cn) ? [...cn] : typeof cn === 'string' ? [cn] : []
  for (const entry of (cert.subjectaltname ?? '').split(/,\s*/)) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4))
  }
  return names.filter(n => n !== '')
}
