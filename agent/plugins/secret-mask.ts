// Last line of defence on the way out (a secret in a response is a leak whatever put it there):
// every string body the agent sends, errors
// included, is scanned for minkms API keys (`k1:`/`k2:`) and HSM keys (`hsm:aes256:`) and those
// are masked. Response schemas already keep unknown fields out and the core masks what it knows
// is secret; this catches a secret inside a field that is allowed to be there (a message, a diff,
// a journal line). NDJSON streams mask per line in shared/record-stream.ts.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { maskSecrets } from '../../shared/logger.js'

async function secretMask (app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_req, _reply, payload) => typeof payload === 'string' ? maskSecrets(payload) : payload)
}

/** Applies to every route of the instance it is registered on (not encapsulated). */
export const secretMaskPlugin: FastifyPluginAsync = Object.assign(secretMask, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'agent-secret-mask'
})
