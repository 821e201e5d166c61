// Which callers the agent answers, beyond the handshake. The handshake admits every certificate
// of `tls.clientCa`; when one site CA issues every certificate (`keyroll pki init`), that includes
// each node's own client certificate (made for boot slots at the coordinator), so a node could
// call the other agents' APIs as the coordinator does. `tls.allowedClients` names the callers
// (subject CN or DNS SAN, compared without case, as DNS names are): any other certificate gets
// 403 AGT_CLIENT_NOT_ALLOWED before any route runs, and a rate-limited warn line with its names
// and address. Absent, every certificate of clientCa is answered (the weaker default kept for
// configs written before the setting existed).
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Logger } from '../../shared/logger.js'
import { RateLimitedWarn } from '../../shared/rate-limited-warn.js'
import type { PeerNames } from '../../shared/tls-peer-names.js'
import { ClientNotAllowedError } from '../errors.js'

/** Options of {@link clientPinningPlugin}. */
export interface ClientPinningOptions {
  /** The names allowed (tls.allowedClients). */
  allowed: readonly string[]
  /** The names of the request's verified client certificate (tls-peer-names.ts; tests pass their own). */
  peerNames: PeerNames
  logger: Logger
}

/** Whether a certificate with these names may call: one of them is allowed. */
export function isAllowedClient (names: readonly string[], allowed: readonly string[]): boolean {
  const ok = new Set(allowed.map(n => n.toLowerCase()))
  return names.some(n => ok.has(n.toLowerCase()))
}

async function clientPinning (app: FastifyInstance, o: ClientPinningOptions): Promise<void> {
  const refusals = new RateLimitedWarn(o.logger, 'more callers were refused by tls.allowedClients and not logged one by one')
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const names = o.peerNames(req) ?? []
    if (isAllowedClient(names, o.allowed)) return
    refusals.warn({ peer: req.ip, peerPort: req.socket.remotePort, clientNames: names.slice(0, 10), method: req.method, url: req.url.slice(0, 200) }, 'client certificate not allowed')
    throw new ClientNotAllowedError(names.slice(0, 10))
  })
}

/** Applies to every route of the instance it is registered on (not encapsulated). */
export const clientPinningPlugin: FastifyPluginAsync<ClientPinningOptions> = Object.assign(clientPinning, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'agent-client-pinning'
})
