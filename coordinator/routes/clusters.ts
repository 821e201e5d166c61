// GET /v1/clusters and /v1/nodes: the configured clusters and nodes with their health, from the
// node-health cache (node-health-cache.ts: a node's last answer, shown with its age and refreshed
// behind the view once 5 s old, waited for only when a node has none or one 60 s old; one probe
// per node shared by concurrent views, a bounded number of nodes probed at once), except that an
// answer asked before a rollout step last started or ended on its node is waited for afresh.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { ClusterViewSchema, NodeHealthSchema } from '../../shared/schemas/cluster.js'
import { ErrorBodySchema } from '../../shared/schemas/errors.js'
import { TERMINAL_ROLLOUT_STATES, type Rollout } from '../../shared/schemas/rollout.js'
import { clusterViews } from '../cluster-health.js'
import type { CoordinatorConfig } from '../config-schema.js'
import { nodeRefs } from '../config.js'
import { NotFoundError } from '../errors.js'
import type { NodeHealthCache } from '../node-health-cache.js'
import type { NodeRef } from '../ports/node-ref.js'
import type { RolloutControl } from '../ports/rollout-control.js'
import type { RootKeyControl } from '../ports/root-key-control.js'
import { ClusterName } from './params.js'

/** Options of the cluster routes. */
export interface ClusterRoutesOptions {
  config: CoordinatorConfig
  health: Pick<NodeHealthCache, 'getMany'>
  control: Pick<RolloutControl, 'list'>
  /** A cluster's adopted root key (its identity and times): shown as `rootKey` when there is one. */
  rootKeys?: Pick<RootKeyControl, 'view'>
}

const clusterRoutes: FastifyPluginAsyncTypebox<ClusterRoutesOptions> = async (app, { config, health, control, rootKeys }) => {
  const all = nodeRefs(config)

  app.get('/v1/clusters', {
    config: { access: 'viewer' },
    schema: { summary: 'Clusters with their nodes\' health (each node\'s last answer, with its age; refreshed behind the view, at most 60 s old)', response: { 200: Type.Array(ClusterViewSchema), '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } }
  }, async () => {
    const rollouts = await control.list({ limit: 1000 })
    const nodes = await health.getMany(all, changedAtOf(rollouts))
    const active = new Map<string, string>()
    // list() is newest first: the first non-terminal one per cluster is the active one.
    for (const r of rollouts) if (!TERMINAL_ROLLOUT_STATES.includes(r.state) && !active.has(r.cluster)) active.set(r.cluster, r.id)
    const views = clusterViews(config.clusters.map(c => c.name), nodes, c => active.get(c))
    if (rootKeys === undefined) return views
    return await Promise.all(views.map(async (v) => {
      const rootKey = await rootKeys.view(v.name)
      return rootKey === undefined ? v : { ...v, rootKey }
    }))
  })

  app.get('/v1/nodes', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Nodes with their health (each node\'s last answer, with its age; refreshed behind the view, at most 60 s old)',
      querystring: Type.Object({ cluster: Type.Optional(ClusterName) }, { additionalProperties: false }),
      response: { 200: Type.Array(NodeHealthSchema), '4xx': ErrorBodySchema, '5xx': ErrorBodySchema }
    }
  }, async (req) => {
    const { cluster } = req.query
    if (cluster !== undefined && !config.clusters.some(c => c.name === cluster)) throw new NotFoundError(`no cluster ${cluster}; known: ${config.clusters.map(c => c.name).join(', ') || 'none'}`)
    const rollouts = await control.list({ ...(cluster === undefined ? {} : { cluster }), limit: RECENT_ROLLOUTS })
    return await health.getMany(cluster === undefined ? all : all.filter(n => n.cluster === cluster), changedAtOf(rollouts))
  })
}

/**
 * The rollouts a node view reads to know when each node last changed: the newest ones are enough,
 * since an answer older than 60 s is refreshed anyway.
 */
const RECENT_ROLLOUTS = 50

/** When keyroll last changed each node: the latest start or end of a step there, over `rollouts`. */
function changedAtOf (rollouts: readonly Rollout[]): (node: NodeRef) => number | undefined {
  const at = new Map<string, number>()
  for (const r of rollouts) {
    for (const s of r.nodes) {
      const t = Math.max(s.startedAt ?? 0, s.finishedAt ?? 0)
      const key = `${r.cluster}\n${s.node}`
      if (t > 0 && t > (at.get(key) ?? 0)) at.set(key, t)
    }
  }
  return (node) => at.get(`${node.cluster}\n${node.name}`)
}

export default clusterRoutes
