// keyroll-coordinator's config schema (TypeBox). Loaded once through shared/config-loader.ts
// (defaults < /etc/keyroll/coordinator.yaml < KEYROLL_COORDINATOR_* < flags) by config.ts, then
// frozen and passed down. Unknown fields are errors: a typo must not fall back to a default.
import Type, { type Static } from 'typebox'
import { DURATION_PATTERN } from '../shared/change/duration.js'
import type { Frozen } from '../shared/config-loader.js'
import { StrategySchema } from '../shared/schemas/rollout.js'

/** Marks a string setting whose value is the absolute PATH of a file (the path is not secret). */
export const PATH_MARK = 'x-keyroll-path'

const Duration = Type.String({ pattern: DURATION_PATTERN, description: 'a duration such as 500ms, 60s, 2m or 1m30s' })
const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]*$'
const ENDPOINT = '^[^\\s/:]+:[0-9]{1,5}$|^\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5}$'

function absolutePath (description: string): ReturnType<typeof Type.String> {
  return Type.String({ pattern: '^/', minLength: 2, description: `an absolute path: ${description}`, [PATH_MARK]: true })
}

/** One node of a cluster. */
export const NodeConfigSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253, pattern: NAME, description: "the node's name; equals its agent's `node`" }),
  agent: Type.String({ pattern: '^https://[^\\s]+$', description: 'https:// URL of the node\'s keyroll-agent' }),
  minkms: Type.String({ pattern: ENDPOINT, description: 'host:port of the node\'s minkms' })
}, { additionalProperties: false })

/** One minkms cluster. */
export const ClusterConfigSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253, pattern: NAME }),
  nodes: Type.Array(NodeConfigSchema, { minItems: 1, maxItems: 64 }),
  minkms: Type.Object({
    ca: absolutePath('PEM CA bundle for the nodes\' minkms server certificates'),
    adminKeyFile: absolutePath('file holding an API key (k1:/k2:) allowed to create the probe enclave, identity and key; 0600'),
    probeEnclave: Type.Optional(Type.String({ minLength: 1, pattern: NAME, description: 'enclave of the gate\'s client probe (default keyroll-probe)' })),
    probeKey: Type.Optional(Type.String({ minLength: 1, pattern: NAME, description: 'key of the gate\'s client probe (default keyroll-probe)' })),
    externalCa: Type.Optional(absolutePath('PEM CA bundle of the external Key Manager\'s server certificates, for the HSM migration\'s provisioning (default: `ca`, the CA the nodes\' own minkms certificates come from)'))
  }, { additionalProperties: false }),
  strategy: Type.Optional(StrategySchema)
}, { additionalProperties: false })

/** The coordinator config. */
export const CoordinatorConfigSchema = Type.Object({
  listen: Type.Object({
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 })
  }, { additionalProperties: false }),
  tls: Type.Optional(Type.Object({
    cert: absolutePath('PEM server certificate (chain)'),
    key: absolutePath('PEM private key of the server certificate'),
    clientCa: absolutePath('PEM CA bundle of the agents\' client certificates (boot slots)')
  }, { additionalProperties: false })),
  devInsecureHttp: Type.Optional(Type.Boolean({ description: 'true: plain HTTP, only on a loopback listen.host (development)' })),
  stateDir: absolutePath('where the store (keyroll.db) and the sealing key live'),
  agents: Type.Object({
    ca: absolutePath('PEM CA bundle for the agents\' server certificates'),
    cert: absolutePath('PEM client certificate the coordinator shows agents'),
    key: absolutePath('PEM private key of that certificate')
  }, { additionalProperties: false }),
  clusters: Type.Array(ClusterConfigSchema, { maxItems: 1000 }),
  slots: Type.Object({ ttl: Duration }, { additionalProperties: false }),
  log: Type.Object({
    level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  }, { additionalProperties: false })
}, { additionalProperties: false, description: 'the coordinator config' })

/** A validated, frozen coordinator config. */
export type CoordinatorConfig = Frozen<Static<typeof CoordinatorConfigSchema>>
export type ClusterConfig = CoordinatorConfig['clusters'][number]
