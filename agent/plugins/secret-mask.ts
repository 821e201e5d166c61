// Last line of defence on the way out (a secret in a response is a leak whatever put it there):
// every string body the agent sends, errors
// included, is scanned for minkms API keys (`k1:`/`k2:`) and HSM keys (`hsm:aes256:`) and those
// are masked. Response schemas already keep unknown fields out and the core masks what it knows
// is secret; this catches a secret inside a field that is allowed to be there (a message, a diff,
// a journal line). NDJSON streams mask per line in shared/record-stream.ts.
//
// One exception, named per answer: a route that must hand over a secret (POST /v1/root-api-key)
// sets `reply.revealSecret`; exactly that value passes in that answer, and everything else
// key-shaped in it is still masked.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { maskSecrets } from '../../shared/logger.js'
import type { Secret } from '../../shared/secrets/secret.js'

declare module 'fastify' {
  interface FastifyReply {
    /** The one secret this answer may carry in clear (set by the route that hands it over). */
    revealSecret?: Secret | undefined
  }
}

async function secretMask (app: FastifyInstance): Promise<void> {
  app.decorateReply('revealSecret', undefined)
  app.addHook('onSend', async (_req, reply, payload) => {
    if (typeof payload !== 'string') return payload
    // Only a successful answer may carry it: an error on the way out is masked as any other.
    const allowed = reply.statusCode === 200 ? reply.revealSecret?.reveal() : undefined
    if (allowed === undefined || allowed === '') return maskSecrets(payload)
    return payload.split(allowed).map(maskSecrets).join(allowed)
  })
}

/** Applies to every route of the instance it is registered on (not encapsulated). */
export const secretMaskPlugin: FastifyPluginAsync = Object.assign(secretMask, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'agent-secret-mask'
})
