// The start-up banner, printed once the listener accepts connections.
// Columns: a 15-character label field. `<-` marks this node in the cluster's node list.
import { EMULATOR_COMMIT, EMULATOR_VERSION } from './version.js'

export interface BannerInput {
  /** Configured HSM names, one line each. */
  hsms: readonly string[]
  clusterId: string
  nodes: Record<number, string>
  nodeId: number
  /** This node's `host:port`. */
  host: string
  /** The root API key (the only secret the banner shows, as real minkms does). */
  rootApiKey: string
}

const DOCS = 'https://docs.min.io/enterprise/aistor-key-manager'

function label (name: string): string {
  return name.padEnd(15)
}

/** The banner lines between `Starting server instance...` and `=> Server is up and running...`. */
export function bannerLines (b: BannerInput): string[] {
  const indent = ' '.repeat(15)
  const ids = Object.keys(b.nodes).map(Number).sort((x, y) => x - y)
  const lines = [
    '',
    `${label('Version')}${EMULATOR_VERSION} commit=${EMULATOR_COMMIT}`,
    ...b.hsms.map((h, i) => `${i === 0 ? label('HSM') : indent}${h}`),
    `${label('Cluster')}ID      ${b.clusterId}`,
    ...ids.map((id) => `${indent}Node ${id}: ${b.nodes[id] ?? ''}${id === b.nodeId ? ' <-' : ''}`),
    '',
    `${label('Documentation')}Web: ${DOCS}`,
    `${indent}CLI: $ minkms help`,
    '',
    `${label('Endpoint')}https://${b.host}`,
    `${label('API Key')}${b.rootApiKey}`,
    ''
  ]
  return lines
}

/** The last banner line; the lab waits for it. */
export const READY_LINE = '=> Server is up and running...'
