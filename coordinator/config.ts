// keyroll-coordinator's config: the defaults, the rules the schema (config-schema.ts) cannot say,
// and loading it once through shared/config-loader.ts (defaults < /etc/keyroll/coordinator.yaml <
// KEYROLL_COORDINATOR_* < flags). The result is frozen and passed down; nothing reads it again.
import { posix } from 'node:path'
import { parseDuration } from '../shared/change/duration.js'
import { loadConfig, type ConfigFlag } from '../shared/config-loader.js'
import type { Problem } from '../shared/edit/problem.js'
import type { Static } from 'typebox'
import { CoordinatorConfigSchema, type CoordinatorConfig } from './config-schema.js'
import type { NodeRef } from './ports/node-ref.js'
import { strategyProblems } from './engine/strategy.js'

/** Where the coordinator looks for its config when none is named. */
export const DEFAULT_CONFIG_FILE = '/etc/keyroll/coordinator.yaml'
/** Prefix of the environment layer. */
export const ENV_PREFIX = 'KEYROLL_COORDINATOR_'
/** Names the config file (lower than `--config`). */
export const CONFIG_FILE_ENV = 'KEYROLL_COORDINATOR_CONFIG'

/**
 * Config paths that name a FILE holding a secret (private keys, the minkms admin key). The path is
 * shown and logged; the file's content is read only to hand it on, never logged or returned.
 */
export const SECRET_FILE_PATHS: readonly string[] = Object.freeze(['tls.key', 'agents.key', 'clusters[].minkms.adminKeyFile'])

/** The lowest layer: everything but the clusters and the agents' TLS files has a default. */
export function coordinatorConfigDefaults (): Record<string, unknown> {
  return {
    listen: { host: '0.0.0.0', port: 7480 },
    stateDir: '/var/lib/keyroll-coordinator',
    clusters: [],
    slots: { ttl: '2m' },
    log: { level: 'info' }
  }
}

/** True for addresses that only this machine can reach. */
export function isLoopbackHost (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/** The rules the schema cannot say. */
export function coordinatorConfigRules (c: Static<typeof CoordinatorConfigSchema>): Problem[] {
  const out: Problem[] = []
  const insecure = c.devInsecureHttp === true
  if (c.tls === undefined && !insecure) {
    out.push({ path: 'tls', message: 'missing; set tls.cert, tls.key and tls.clientCa (HTTPS; agents show client certificates for boot slots), or devInsecureHttp: true with a loopback listen.host for development' })
  }
  if (c.tls !== undefined && insecure) out.push({ path: 'devInsecureHttp', message: 'cannot be combined with tls; remove one of them' })
  if (insecure && !isLoopbackHost(c.listen.host)) {
    out.push({ path: 'devInsecureHttp', message: `plain HTTP is allowed only on a loopback address (127.0.0.1, ::1, localhost), but listen.host is ${c.listen.host}; set listen.host to 127.0.0.1 or configure tls` })
  }
  const paths: Array<[string, string | undefined]> = [
    ['stateDir', c.stateDir], ['tls.cert', c.tls?.cert], ['tls.key', c.tls?.key], ['tls.clientCa', c.tls?.clientCa],
    ['agents.ca', c.agents.ca], ['agents.cert', c.agents.cert], ['agents.key', c.agents.key],
    ...c.clusters.flatMap((cl, i): Array<[string, string]> => [[`clusters[${i}].minkms.ca`, cl.minkms.ca], [`clusters[${i}].minkms.adminKeyFile`, cl.minkms.adminKeyFile]])
  ]
  for (const [at, p] of paths) {
    if (p !== undefined && (posix.normalize(p) !== p || p.endsWith('/'))) out.push({ path: at, message: `must be a normalised path (no "..", "//" or trailing "/"); did you mean ${posix.normalize(p).replace(/\/$/, '')}?` })
  }
  const ttl = parseDuration(c.slots.ttl)
  if (ttl !== undefined && (ttl < 1000 || ttl > 3_600_000)) out.push({ path: 'slots.ttl', message: 'must be between 1s and 1h (a converging node holds its slot for one restart)' })

  const clusterAt = new Map<string, number>()
  const nodeAt = new Map<string, string>()
  const agentAt = new Map<string, string>()
  const minkmsAt = new Map<string, string>()
  c.clusters.forEach((cl, i) => {
    // As a request's strategy is (engine/strategy.ts): a day at most, or the engine's timers overflow.
    for (const p of strategyProblems(cl.strategy)) out.push({ path: `clusters[${i}].strategy.${p.field}`, message: p.message })
    const first = clusterAt.get(cl.name)
    if (first !== undefined) out.push({ path: `clusters[${i}].name`, message: `cluster ${cl.name} is named twice (also clusters[${first}].name); cluster names must be unique` })
    else clusterAt.set(cl.name, i)
    cl.nodes.forEach((n, j) => {
      const at = `clusters[${i}].nodes[${j}]`
      // A boot slot names only its node (from the agent's certificate): the node name alone must find the cluster.
      const seen = nodeAt.get(n.name)
      if (seen !== undefined) out.push({ path: `${at}.name`, message: `node ${n.name} is also ${seen}; node names must be unique across all clusters (a booting agent is found by its node name)` })
      else nodeAt.set(n.name, `${at}.name`)
      const url = normaliseUrl(n.agent)
      const seenUrl = agentAt.get(url)
      if (seenUrl !== undefined) out.push({ path: `${at}.agent`, message: `agent URL ${n.agent} is also ${seenUrl}; every node has its own agent` })
      else agentAt.set(url, `${at}.agent`)
      if (/^https:\/\/[^/]*@/.test(n.agent)) out.push({ path: `${at}.agent`, message: 'must not contain credentials; the coordinator authenticates with agents.cert and agents.key' })
      const port = Number(n.minkms.slice(n.minkms.lastIndexOf(':') + 1))
      if (port < 1 || port > 65535) out.push({ path: `${at}.minkms`, message: 'port must be 1-65535' })
      const seenMinkms = minkmsAt.get(n.minkms.toLowerCase())
      if (seenMinkms !== undefined) out.push({ path: `${at}.minkms`, message: `minkms endpoint ${n.minkms} is also ${seenMinkms}; every node has its own minkms` })
      else minkmsAt.set(n.minkms.toLowerCase(), `${at}.minkms`)
    })
  })
  return out
}

// https://Host:443/x/ and https://host/x name the same agent.
function normaliseUrl (u: string): string {
  try {
    const url = new URL(u)
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
  } catch {
    return u
  }
}

/** Where the config comes from. */
export interface CoordinatorConfigSources {
  /** `--config FILE`; else KEYROLL_COORDINATOR_CONFIG; else DEFAULT_CONFIG_FILE. */
  file?: string
  /** Default `process.env` (read in shared/config-loader.ts only). */
  env?: Readonly<Record<string, string | undefined>>
  flags?: readonly ConfigFlag[]
}

/** Loads the coordinator config. Throws SHR_DAEMON_CONFIG_INVALID / _UNREADABLE (exit 2). */
export async function loadCoordinatorConfig (sources: CoordinatorConfigSources = {}): Promise<CoordinatorConfig> {
  return await loadConfig({
    name: 'coordinator config',
    schema: CoordinatorConfigSchema,
    defaults: coordinatorConfigDefaults(),
    fileEnv: CONFIG_FILE_ENV,
    defaultFile: DEFAULT_CONFIG_FILE,
    envPrefix: ENV_PREFIX,
    rules: coordinatorConfigRules,
    ...(sources.file === undefined ? {} : { file: sources.file }),
    ...(sources.env === undefined ? {} : { env: sources.env }),
    ...(sources.flags === undefined ? {} : { flags: sources.flags })
  })
}

/** Every node of the config as a NodeRef, cluster by cluster. */
export function nodeRefs (config: CoordinatorConfig): NodeRef[] {
  return config.clusters.flatMap(cl => cl.nodes.map(n => ({ cluster: cl.name, name: n.name, agentUrl: n.agent, minkms: n.minkms })))
}

/** The node named `name` in any cluster (names are unique across clusters). */
export function findNode (config: CoordinatorConfig, name: string): NodeRef | undefined {
  return nodeRefs(config).find(n => n.name === name)
}
