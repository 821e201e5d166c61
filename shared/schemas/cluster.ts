// Clusters and nodes as GET /v1/clusters and GET /v1/nodes show them: health per node, asked
// live or its last answer (refreshed behind the view, at most 60 s old), with when it was asked
// and its age.
import Type, { type Static } from 'typebox'

/** One node's health, asked from its agent and its minkms (the views serve its last answer, at most 60 s old, while they refresh it). */
export const NodeHealthSchema = Type.Object({
  cluster: Type.String(),
  node: Type.String(),
  agentUrl: Type.String(),
  minkms: Type.String({ description: 'host:port' }),
  agent: Type.Object({ reachable: Type.Boolean(), ready: Type.Optional(Type.Boolean()), error: Type.Optional(Type.String()) }),
  unit: Type.Optional(Type.Object({ activeState: Type.String(), subState: Type.String(), invocationId: Type.Optional(Type.String()) })),
  minkmsReady: Type.Optional(Type.Boolean()),
  drift: Type.Optional(Type.Boolean({ description: 'a managed file differs from what the agent last wrote' })),
  appliedRevision: Type.Optional(Type.Integer({ minimum: 0 })),
  desiredRevision: Type.Optional(Type.Integer({ minimum: 0 })),
  healthy: Type.Boolean({ description: 'agent reachable and ready, unit active, minkms ready, no drift' }),
  checkedAt: Type.Optional(Type.Integer({ minimum: 0, description: 'when the node was asked (ms since the epoch)' })),
  ageMs: Type.Optional(Type.Integer({ minimum: 0, description: 'how old the answer was when this view was made (ms): the views serve a node\'s last answer while they refresh it, up to 60 s old' }))
})
export type NodeHealth = Static<typeof NodeHealthSchema>

/** A cluster with its nodes' health. */
/** A cluster's adopted root API key as views show it: its identity and times, never the key. */
export const RootKeyViewSchema = Type.Object({
  identity: Type.String({ description: 'the `h1:` identity of the root API key the coordinator adopted when the cluster\'s root key changed' }),
  adoptedAt: Type.Number({ description: 'when it was adopted, ms since the epoch' }),
  handedOverAt: Type.Optional(Type.Number({ description: 'when it was handed to the operator (once), ms since the epoch' }))
}, { additionalProperties: false })
export type RootKeyViewWire = Static<typeof RootKeyViewSchema>

export const ClusterViewSchema = Type.Object({
  name: Type.String(),
  healthy: Type.Boolean({ description: 'every node healthy' }),
  activeRollout: Type.Optional(Type.String({ description: 'id of the active rollout, if any' })),
  rootKey: Type.Optional(RootKeyViewSchema),
  nodes: Type.Array(NodeHealthSchema)
})
export type ClusterView = Static<typeof ClusterViewSchema>
