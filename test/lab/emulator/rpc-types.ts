// Bodies of the emulator-private node-to-node RPCs under /v1/rpc/ (JSON, root identity only).
// Real minkms has its own RPCs (replicate, forward, vote, status); these are the emulator's.

/** GET /v1/rpc/status: one node's view of itself. */
export interface PeerStatus {
  clusterId: string
  id: number
  host: string
  version: string
  apiVersion: string
  upTimeMs: number
  /** Node id → host, as this node knows the cluster. */
  nodes: Record<string, string>
  /** HSMs with a sealed REK entry on this node's disk. */
  hsms: string[]
  /** HSMs configured on this node. */
  configuredHsms: string[]
  /** /v1/health/ready would answer 200. */
  ready: boolean
}

/** POST /v1/rpc/join: a member asks a fresh node to join its cluster as `nodeId`. */
export interface JoinRequest { clusterId: string, nodeId: number, nodes: Record<string, string> }

/** POST /v1/rpc/members: a member pushes the new member list. */
export interface MembersRequest { clusterId: string, nodes: Record<string, string> }

/** POST /v1/rpc/hsm: CLUSTER:ADDHSM / REMOVEHSM on one node; `dryRun` only checks. */
export interface HsmRequest { op: 'add' | 'remove', name: string, overwrite: boolean, dryRun: boolean }

function isRecordOfStrings (v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) &&
    Object.entries(v).every(([k, h]) => /^\d+$/.test(k) && typeof h === 'string')
}

export function isJoinRequest (v: unknown): v is JoinRequest {
  const r = v as Partial<JoinRequest> | null
  return typeof r === 'object' && r !== null && typeof r.clusterId === 'string' &&
    Number.isInteger(r.nodeId) && isRecordOfStrings(r.nodes)
}

export function isMembersRequest (v: unknown): v is MembersRequest {
  const r = v as Partial<MembersRequest> | null
  return typeof r === 'object' && r !== null && typeof r.clusterId === 'string' && isRecordOfStrings(r.nodes)
}

export function isHsmRequest (v: unknown): v is HsmRequest {
  const r = v as Partial<HsmRequest> | null
  return typeof r === 'object' && r !== null && (r.op === 'add' || r.op === 'remove') && typeof r.name === 'string' &&
    typeof r.overwrite === 'boolean' && typeof r.dryRun === 'boolean'
}

export function isPeerStatus (v: unknown): v is PeerStatus {
  const r = v as Partial<PeerStatus> | null
  return typeof r === 'object' && r !== null && typeof r.clusterId === 'string' && typeof r.id === 'number' &&
    typeof r.host === 'string' && Array.isArray(r.hsms) && Array.isArray(r.configuredHsms) && isRecordOfStrings(r.nodes)
}
