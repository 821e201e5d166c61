// keyroll-agent's config, validated once when loaded and frozen after: the TypeBox schema, the defaults, the rules the schema
// cannot say, and SECRET_PATHS. Loaded once by agent/cli.ts through shared/config-loader.ts
// (defaults < /etc/keyroll/agent.yaml < KEYROLL_AGENT_* < flags), then frozen and passed down.
import { hostname } from 'node:os'
import { posix } from 'node:path'
import Type, { type Static } from 'typebox'
import { DURATION_PATTERN, parseDuration, verifyWindowProblems } from '../shared/change/duration.js'
import { loadConfig, type ConfigFlag, type Frozen } from '../shared/config-loader.js'
import type { Problem } from '../shared/edit/problem.js'
import type { ChangeDefaults } from '../shared/change/validate-change.js'

/** Where the agent looks for its config when none is named. */
export const DEFAULT_CONFIG_FILE = '/etc/keyroll/agent.yaml'
/** Prefix of the environment layer. */
export const ENV_PREFIX = 'KEYROLL_AGENT_'
/** Names the config file (lower than `--config`). */
export const CONFIG_FILE_ENV = 'KEYROLL_AGENT_CONFIG'

/**
 * Marks a string setting whose value is the absolute PATH of a file. The path itself is not
 * secret even when the file is (`tls.key`); see SECRET_FILE_PATHS.
 */
export const PATH_MARK = 'x-keyroll-path'

const Duration = Type.String({ pattern: DURATION_PATTERN, description: 'a duration such as 500ms, 60s, 2m or 1m30s' })

function absolutePath (description: string): ReturnType<typeof Type.String> {
  return Type.String({ pattern: '^/', minLength: 2, description: `an absolute path: ${description}`, [PATH_MARK]: true })
}

const ManagedFile = <K extends string>(kind: K, what: string) => Type.Object({
  path: absolutePath(what),
  kind: Type.Literal(kind, { description: `always ${kind}` })
}, { additionalProperties: false, description: what })

/** The agent config. Unknown fields are errors (a typo must not silently fall back to a default). */
export const AgentConfigSchema = Type.Object({
  node: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: "this node's name (default: the host name)" }),
  unit: Type.String({ pattern: '^[A-Za-z0-9:_.@\\\\-]+\\.service$', description: 'the systemd unit to control, e.g. minkms.service' }),
  files: Type.Object({
    config: ManagedFile('minkms-config', 'the minkms config file'),
    env: ManagedFile('env', 'the minkms EnvironmentFile')
  }, { additionalProperties: false, description: 'the files this agent may edit (the allowlist): config and env' }),
  stateDir: absolutePath('where the agent keeps its state and backups'),
  listen: Type.Object({
    host: Type.String({ minLength: 1, description: 'address to listen on, e.g. 0.0.0.0 or 127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, description: 'a TCP port, 0-65535' })
  }, { additionalProperties: false }),
  tls: Type.Optional(Type.Object({
    cert: absolutePath('PEM server certificate (chain)'),
    key: absolutePath('PEM private key of the server certificate'),
    clientCa: absolutePath('PEM CA bundle that client certificates must chain to'),
    allowedClients: Type.Optional(Type.Array(
      Type.String({ minLength: 1, maxLength: 253, pattern: '^\\S(?:.*\\S)?$', description: 'a name of a client certificate (subject CN or DNS subject alternative name)' }),
      { minItems: 1, maxItems: 100, description: "the client certificates allowed to call the API, by name (subject CN or DNS SAN), e.g. the coordinator's; absent: every certificate of clientCa (weaker: with one site CA, a node's own client certificate could call the other agents)" }
    ))
  }, { additionalProperties: false, description: 'HTTPS with client-certificate verification: cert, key, clientCa, allowedClients' })),
  devInsecureHttp: Type.Optional(Type.Boolean({ description: 'true: plain HTTP, only on a loopback listen.host (development)' })),
  minkms: Type.Object({
    endpoint: Type.String({ pattern: '^[^\\s/:]+:[0-9]{1,5}$|^\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5}$', description: 'host:port of the local minkms, for /v1/health/ready' }),
    ca: Type.Optional(absolutePath('PEM CA bundle for the minkms server certificate'))
  }, { additionalProperties: false }),
  coordinator: Type.Optional(Type.Object({
    url: Type.String({ pattern: '^https://[^\\s]+$', description: 'https:// URL of keyroll-coordinator' }),
    ca: Type.Optional(absolutePath('PEM CA bundle for the coordinator certificate')),
    cert: absolutePath('PEM client certificate for the coordinator'),
    key: absolutePath('PEM private key of the client certificate')
  }, { additionalProperties: false, description: 'the coordinator to ask before converging at boot' })),
  verify: Type.Object({
    deadline: Duration,
    stableFor: Duration
  }, { additionalProperties: false, description: 'defaults for a change without verify' }),
  backups: Type.Object({
    keep: Type.Integer({ minimum: 1, maximum: 1000, description: 'backups kept per file, 1-1000' })
  }, { additionalProperties: false }),
  log: Type.Object({
    level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { description: 'fatal, error, warn, info, debug, trace or silent' })
  }, { additionalProperties: false })
}, { additionalProperties: false, description: 'the agent config' })

/** A validated, frozen agent config. */
export type AgentConfig = Frozen<Static<typeof AgentConfigSchema>>

/**
 * Config paths whose VALUES are secrets: masked in logs (`config.<path>`) and never shown by
 * the API. None today: the agent authenticates with certificates, whose private keys are files.
 * The schema test fails when a field named like a secret is neither here nor in SECRET_FILE_PATHS.
 */
export const SECRET_PATHS: readonly string[] = Object.freeze([])

/**
 * Config paths that name a FILE holding a secret (private keys). The path is shown and logged;
 * the file's content is read only to hand it to TLS and never logged or returned.
 */
export const SECRET_FILE_PATHS: readonly string[] = Object.freeze(['tls.key', 'coordinator.key'])

/** The lowest layer. `node` defaults to the host name. */
export function agentConfigDefaults (): Record<string, unknown> {
  return {
    node: hostname().split('.')[0] ?? 'localhost',
    unit: 'minkms.service',
    files: {
      config: { path: '/etc/minkms/config.yaml', kind: 'minkms-config' },
      env: { path: '/etc/default/minkms', kind: 'env' }
    },
    stateDir: '/var/lib/keyroll-agent',
    listen: { host: '0.0.0.0', port: 7400 },
    minkms: { endpoint: 'localhost:7373' },
    verify: { deadline: '60s', stableFor: '5s' },
    backups: { keep: 10 },
    log: { level: 'info' }
  }
}

/** True for addresses that only this machine can reach. */
export function isLoopbackHost (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/** The rules the schema cannot say. */
export function agentConfigRules (c: Static<typeof AgentConfigSchema>): Problem[] {
  const out: Problem[] = []
  const insecure = c.devInsecureHttp === true
  if (c.tls === undefined && !insecure) {
    out.push({ path: 'tls', message: 'missing; set tls.cert, tls.key and tls.clientCa (HTTPS with client certificates), or devInsecureHttp: true with a loopback listen.host for development' })
  }
  if (c.tls !== undefined && insecure) out.push({ path: 'devInsecureHttp', message: 'cannot be combined with tls; remove one of them' })
  if (insecure && !isLoopbackHost(c.listen.host)) {
    out.push({ path: 'devInsecureHttp', message: `plain HTTP is allowed only on a loopback address (127.0.0.1, ::1, localhost), but listen.host is ${c.listen.host}; set listen.host to 127.0.0.1 or configure tls` })
  }
  const paths: Array<[string, string | undefined]> = [
    ['files.config.path', c.files.config.path], ['files.env.path', c.files.env.path], ['stateDir', c.stateDir],
    ['tls.cert', c.tls?.cert], ['tls.key', c.tls?.key], ['tls.clientCa', c.tls?.clientCa], ['minkms.ca', c.minkms.ca],
    ['coordinator.ca', c.coordinator?.ca], ['coordinator.cert', c.coordinator?.cert], ['coordinator.key', c.coordinator?.key]
  ]
  for (const [at, p] of paths) {
    if (p !== undefined && (posix.normalize(p) !== p || p.endsWith('/'))) out.push({ path: at, message: `must be a normalised path (no "..", "//" or trailing "/"); did you mean ${posix.normalize(p).replace(/\/$/, '')}?` })
  }
  if (c.files.config.path === c.files.env.path) out.push({ path: 'files.env.path', message: 'must differ from files.config.path' })
  const inState = [c.files.config.path, c.files.env.path].find(p => p.startsWith(`${c.stateDir}/`))
  if (inState !== undefined) out.push({ path: 'stateDir', message: `must not contain a managed file (${inState})` })
  const port = Number(c.minkms.endpoint.slice(c.minkms.endpoint.lastIndexOf(':') + 1))
  if (port < 1 || port > 65535) out.push({ path: 'minkms.endpoint', message: 'port must be 1-65535' })
  if (c.coordinator !== undefined && /^https:\/\/[^/]*@/.test(c.coordinator.url)) {
    out.push({ path: 'coordinator.url', message: 'must not contain credentials; the agent authenticates with coordinator.cert and coordinator.key' })
  }
  for (const p of verifyWindowProblems(c.verify.deadline, c.verify.stableFor)) out.push({ path: `verify.${p.field}`, message: p.message })
  return out
}

/** Where the config comes from. */
export interface AgentConfigSources {
  /** `--config FILE`; else KEYROLL_AGENT_CONFIG; else DEFAULT_CONFIG_FILE. */
  file?: string
  /** Default `process.env` (read in shared/config-loader.ts only). */
  env?: Readonly<Record<string, string | undefined>>
  flags?: readonly ConfigFlag[]
}

/** Loads the agent config. Throws SHR_DAEMON_CONFIG_INVALID / _UNREADABLE (CLI exit 2). */
export async function loadAgentConfig (sources: AgentConfigSources = {}): Promise<AgentConfig> {
  return await loadConfig({
    name: 'agent config',
    schema: AgentConfigSchema,
    defaults: agentConfigDefaults(),
    fileEnv: CONFIG_FILE_ENV,
    defaultFile: DEFAULT_CONFIG_FILE,
    envPrefix: ENV_PREFIX,
    rules: agentConfigRules,
    ...(sources.file === undefined ? {} : { file: sources.file }),
    ...(sources.env === undefined ? {} : { env: sources.env }),
    ...(sources.flags === undefined ? {} : { flags: sources.flags })
  })
}

/** What a change gets where it is silent: the agent's `verify` (validated above, so both parse). */
export function changeDefaultsOf (config: AgentConfig): ChangeDefaults {
  return { verify: { deadlineMs: parseDuration(config.verify.deadline) ?? 60_000, stableForMs: parseDuration(config.verify.stableFor) ?? 5000 } }
}
