// Bodies of the emulator-private node-to-node RPCs under /v1/rpc/ (JSON, root identity only).
// Real minkms has its own RPCs (replicate, forward, vote, status); these are the emulator's.
// Key databases travel as replicas (replica-state.ts): material sealed under the replica key.
import type { DbFile } from './key-database.js'
import { isDbFile } from './replica-state.js'

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
  /** Revision of this node's key database. */
  revision: number
}

/** POST /v1/rpc/join: a member asks a fresh node to join its cluster as `nodeId`, with the cluster's key database. */
export interface JoinRequest { clusterId: string, nodeId: number, nodes: Record<string, string>, revision: number, state: DbFile }

/** POST /v1/rpc/replicate: the leader's new key database; GET /v1/rpc/state answers the same shape. */
export interface ReplicaMessage { clusterId: string, leaderId: number, revision: number, state: DbFile }

/** POST /v1/rpc/forward: a member hands a write it received to the leader. `body` is base64 of the frames. */
export interface ForwardRequest { enclave: string, caller: string, body: string }

/** The leader's answer to a forwarded write: 200 with base64 frames, or the error to send. */
export interface ForwardReply { status: number, body?: string, message?: string }

/** POST /v1/rpc/members: a member pushes the new member list. */
export interface MembersRequest { clusterId: string, nodes: Record<string, string> }

/** POST /v1/rpc/hsm: CLUSTER:ADDHSM / REMOVEHSM on one node; `dryRun` only checks. */
export interface HsmRequest { op: 'add' | 'remove', name: string, overwrite: boolean, dryRun: boolean }

function isRecordOfStrings (v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) &&
    Object.entries(v).every(([k, h]) => /^\d+$/.test(k) && typeof h === 'string')
}

function isRevision (v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0
}

export function isJoinRequest (v: unknown): v is JoinRequest {
  const r = v as Partial<JoinRequest> | null
  return typeof r === 'object' && r !== null && typeof r.clusterId === 'string' &&
    Number.isInteger(r.nodeId) && isRecordOfStrings(r.nodes) && isRevision(r.revision) && isDbFile(r.state)
}

export function isReplicaMessage (v: unknown): v is ReplicaMessage {
  const r = v as Partial<ReplicaMessage> | null
  return typeof r === 'object' && r !== null && typeof r.clusterId === 'string' && Number.isInteger(r.leaderId) &&
    isRevision(r.revision) && isDbFile(r.state)
}

export function isForwardRequest (v: unknown): v is ForwardRequest {
  const r = v as Partial<ForwardRequest> | null
  return typeof r === 'object' && r !== null && typeof r.enclave === 'string' && typeof r.caller === 'string' && typeof r.body === 'string'
}

export function isForwardReply (v: unknown): v is ForwardReply {
  const r = v as Partial<ForwardReply> | null
  return typeof r === 'object' && r !== null && Number.isInteger(r.status) &&
    (r.body === undefined || typeof r.body === 'string') && (r.message === undefined || typeof r.message === 'string')
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
    typeof r.host === 'string' && Array.isArray(r.hsms) && Array.isArray(r.configuredHsms) && isRecordOfStrings(r.nodes) &&
    isRevision(r.revision)
}
