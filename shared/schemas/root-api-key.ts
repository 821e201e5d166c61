// POST /v1/root-api-key on the agent: the root API key the node's current minkms run logged in its
// start-up banner (`API Key k1:…`), with its `h1:` identity and the run it came from. The one
// answer of the agent that carries a key in clear, so it is a POST (nothing caches it), behind the
// agent's mutual TLS like every route, and the key travels as `{ "$secret": … }` so that whoever
// reads it knows what it holds. The coordinator asks for it only to adopt a root key that changed
// (coordinator/gate/root-key-adoption.ts).
import Type, { type Static } from 'typebox'

/** An `h1:` identity (SHA-256 of the public key, base64url). */
export const IdentitySchema = Type.String({ pattern: '^h1:[A-Za-z0-9_-]{43}$', description: 'the `h1:` identity of an API key' })

/** The answer. */
export const RootApiKeyAnswerSchema = Type.Object({
  invocationId: Type.String({ minLength: 1, description: 'InvocationID of the minkms run whose banner logged the key' }),
  identity: IdentitySchema,
  apiKey: Type.Object({
    $secret: Type.String({ pattern: '^k[0-9]+:[A-Za-z0-9_-]+$', maxLength: 256, description: 'the root API key (k1:/k2:)' })
  }, { additionalProperties: false })
}, { additionalProperties: false })
export type RootApiKeyAnswer = Static<typeof RootApiKeyAnswerSchema>
