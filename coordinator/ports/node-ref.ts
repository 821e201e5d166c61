// A node of a cluster as the coordinator's config names it: where its agent listens and where its
// minkms serves clients. Every port that talks to a node takes one.

/** One node of a cluster. */
export interface NodeRef {
  /** Cluster name (coordinator config `clusters[].name`). */
  readonly cluster: string
  /** Node name; equals the agent's `node` (its /v1/status `node`). */
  readonly name: string
  /** Base URL of the node's keyroll-agent, e.g. https://10.0.0.11:7480 (may carry a path prefix). */
  readonly agentUrl: string
  /** The node's minkms endpoint, host:port, e.g. 10.0.0.11:7373. */
  readonly minkms: string
}
