// The agent's external Key Manager preflight (POST /v1/preflight/external-kms): what the
// coordinator asks a node to try from its own network position before the HSM migration touches
// anything, and the per-server answer. The API key travels as `{ "$secret": … }` (or a plain
// string) and is never part of an answer.
import Type, { type Static } from 'typebox'
import { SecretRefSchema } from '../change/schema.js'

/** `host:port` (or `host`, port 7373) of one external server. */
export const ExternalServerSchema = Type.String({
  minLength: 1, maxLength: 300, pattern: '^[A-Za-z0-9.:\\[\\]_-]+$', description: 'host:port of an external Key Manager server (host alone: port 7373)'
})

export const ExternalKmsPreflightRequestSchema = Type.Object({
  servers: Type.Array(ExternalServerSchema, { minItems: 1, maxItems: 16, uniqueItems: true, description: 'each server is checked on its own, in parallel' }),
  enclave: Type.String({ minLength: 1, maxLength: 256, description: 'the enclave of the seal/unseal key' }),
  key: Type.String({ minLength: 1, maxLength: 256, description: 'the seal/unseal key' }),
  apiKey: Type.Union([SecretRefSchema, Type.String({ minLength: 1, maxLength: 256 })], {
    description: 'the k1:/k2: API key the node\'s minkms will use (auth.key); { "$secret": … } or plain; never answered back'
  }),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 30_000, description: 'per-request timeout, ms (default 5000)' }))
}, { additionalProperties: false })
export type ExternalKmsPreflightRequest = Static<typeof ExternalKmsPreflightRequestSchema>

/** One check of one server: ok, failed (with why), or skipped because an earlier check failed. */
export const PreflightCheckSchema = Type.Object({
  status: Type.Enum(['ok', 'failed', 'skipped']),
  ms: Type.Optional(Type.Number({ minimum: 0, description: 'how long the check took' })),
  reason: Type.Optional(Type.String({ description: 'why it failed or was skipped' }))
}, { additionalProperties: false })
export type PreflightCheck = Static<typeof PreflightCheckSchema>

export const ExternalServerResultSchema = Type.Object({
  server: Type.String({ description: 'the server as asked' }),
  ok: Type.Boolean({ description: 'every check passed' }),
  checks: Type.Object({
    tls: PreflightCheckSchema,
    auth: PreflightCheckSchema,
    roundTrip: PreflightCheckSchema
  }, { additionalProperties: false, description: 'tls: connect and handshake with the server certificate verified; auth: the API key is accepted for the key; roundTrip: encrypt then decrypt' }),
  ms: Type.Number({ minimum: 0, description: 'all checks of this server' })
}, { additionalProperties: false })
export type ExternalServerResult = Static<typeof ExternalServerResultSchema>

/** The CA the server certificates were verified against: the node's minkms `tls.ca`, or the system store. */
export const PreflightTrustSchema = Type.Object({
  source: Type.Enum(['tls.ca', 'system']),
  path: Type.Optional(Type.String({ description: 'the tls.ca path, when set' })),
  error: Type.Optional(Type.String({ description: 'why the CA could not be read (every server then fails its tls check)' }))
}, { additionalProperties: false })
export type PreflightTrust = Static<typeof PreflightTrustSchema>

export const ExternalKmsPreflightResultSchema = Type.Object({
  node: Type.String(),
  ok: Type.Boolean({ description: 'every server passed every check' }),
  reachable: Type.Integer({ minimum: 0, description: 'servers that passed every check' }),
  trust: PreflightTrustSchema,
  servers: Type.Array(ExternalServerResultSchema, { description: 'in the order asked' })
}, { additionalProperties: false })
export type ExternalKmsPreflightResult = Static<typeof ExternalKmsPreflightResultSchema>
