// Boot-convergence slots, the server side of docs/agent-coordinator.md. The caller is an agent,
// known by its client certificate (shared/tls-peer-names.ts), not by a token: a body that names
// another node than the certificate is refused (403), so one node cannot take or release another
// node's slot. Answers are the contract's: 201 { slotId, ttlMs }, 409 { retryAfterMs, message },
// release 204.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import Type from 'typebox'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import type { CoordinatorConfig } from '../config-schema.js'
import { findNode } from '../config.js'
import { ClientCertRequiredError, ForbiddenError, NotFoundError } from '../errors.js'
import type { PeerNames } from '../../shared/tls-peer-names.js'
import type { SlotControl } from '../ports/rollout-control.js'

/** Options of the slot routes. */
export interface SlotRoutesOptions {
  config: CoordinatorConfig
  slots: SlotControl
  peerNames: PeerNames
}

const NodeName = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' })
const Revision = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })

export const SlotRequestSchema = Type.Object({
  node: NodeName,
  unit: Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9:_.@\\\\-]+\\.service$' }),
  revision: Revision
}, { additionalProperties: false })

export const SlotReleaseSchema = Type.Object({
  revision: Revision,
  result: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z-]+$', description: 'the apply outcome: ok, changed, rolled-back, rollback-failed, failed' }),
  message: Type.Optional(Type.String({ maxLength: 4096 }))
}, { additionalProperties: false })

const Granted = Type.Object({ slotId: Type.String(), ttlMs: Type.Integer({ minimum: 0 }) })
const NotNow = Type.Object({ retryAfterMs: Type.Integer({ minimum: 0 }), message: Type.String() })

/** The certificate's names; 401 without a verified certificate. */
function namesOf (req: FastifyRequest, peerNames: PeerNames): readonly string[] {
  const names = peerNames(req)
  if (names === undefined || names.length === 0) throw new ClientCertRequiredError()
  return names
}

const slotRoutes: FastifyPluginAsyncTypebox<SlotRoutesOptions> = async (app, { config, slots, peerNames }) => {
  app.post('/v1/convergence/slots', {
    config: { access: 'agent' },
    schema: {
      summary: 'A booting agent asks to converge its node',
      body: SlotRequestSchema,
      response: { 201: Granted, 409: NotNow, '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req, reply) => {
    const names = namesOf(req, peerNames)
    const { node, unit, revision } = req.body
    if (!names.includes(node)) throw new ForbiddenError(`the client certificate is for ${names.join(', ')}, not for node ${node}`)
    if (findNode(config, node) === undefined) throw new ForbiddenError(`node ${node} is not a node of any configured cluster`)
    const answer = await slots.request({ node, unit, revision })
    req.log.info({ node, revision, granted: answer.granted }, 'convergence slot asked')
    if (answer.granted) return await reply.code(201).send({ slotId: answer.slotId, ttlMs: answer.ttlMs })
    return await reply.code(409).header('retry-after', String(Math.ceil(answer.retryAfterMs / 1000))).send({ retryAfterMs: answer.retryAfterMs, message: answer.message })
  })

  app.post('/v1/convergence/slots/:id/release', {
    config: { access: 'agent' },
    schema: {
      summary: 'A converged agent gives its slot back',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }) }),
      body: SlotReleaseSchema,
      response: { 204: Type.Null(), '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req, reply) => {
    const names = namesOf(req, peerNames)
    const node = names.find(n => findNode(config, n) !== undefined)
    if (node === undefined) throw new ForbiddenError(`the client certificate (${names.join(', ')}) names no configured node`)
    const { revision, result, message } = req.body
    const released = await slots.release(req.params.id, { revision, result, node, ...(message === undefined ? {} : { message }) })
    if (!released) throw new NotFoundError(`no open slot ${req.params.id} of node ${node}`)
    req.log.info({ node, slot: req.params.id, revision, result }, 'convergence slot released')
    return await reply.code(204).send(null)
  })
}

export default slotRoutes
