// TypeScript shapes of the minkms protobuf messages (schema.ts), as decodeMessage returns them:
// lowerCamelCase fields, 64-bit integers as numbers, bytes as Uint8Array (Node Buffers), every
// scalar/repeated/map field present with its default, and absent sub-messages left out.

/** google.protobuf.Timestamp: seconds since the Unix epoch plus nanoseconds. */
export interface Timestamp { seconds: number, nanos: number }
/** google.protobuf.Duration. */
export interface Duration { seconds: number, nanos: number }

export interface ErrResponse { message: string }

export interface VersionResponse { version: string, commit: string, apiVersion: string, host: string, fips140: boolean }

export interface ServerStatusResponse {
  version: string
  apiVersion: string
  host: string
  upTime?: Duration
  /** `Leader`, `Follower` or `Candidate`. */
  role: string
  commit: number
  /** Node id to `host:port` of every cluster member. */
  nodes: Record<number, string>
  id: number
  /** Negative when the cluster has no leader. */
  leaderId: number
  lastHeartbeat?: Duration
  heartbeatInterval?: Duration
  electionTimeout?: Duration
  os: string
  arch: string
  cpus: number
  usableCpus: number
  heapMemInUse: number
  stackMemInUse: number
  /** HSMs with a sealed root-encryption-key entry on this node's disk. */
  hsms: string[]
  /** HSMs configured on this node now. */
  configuredHsms: string[]
}

export type ClusterStatusRequest = Record<string, never>
export interface ClusterStatusResponse { nodesUp: Record<number, ServerStatusResponse>, nodesDown: Record<number, string> }

export interface AddClusterNodeRequest { host: string }
export interface RemoveClusterNodeRequest { host: string, deleteClusterOnHost: boolean }
export interface EditClusterRequest { host: string, removeIds: number[] }
export interface AddHSMRequest { name: string, overwrite: boolean }
export interface RemoveHSMRequest { name: string }

export interface ListRequest { prefix: string, continueAt: string, limit: number }

export interface CreateEnclaveRequest { name: string }
export interface DeleteEnclaveRequest { name: string }
export interface EnclaveStatusRequest { name: string }
export interface EnclaveStatusResponse { name: string, createdAt?: Timestamp, createdBy: string }
export interface ListEnclavesResponse { enclaves: EnclaveStatusResponse[], continueAt: string }

export interface CreateKeyRequest { name: string, type: string, addVersion: boolean }
export interface DeleteKeyRequest { name: string, version: number, allVersions: boolean }
export interface ImportKeyRequest { name: string, type: string, key: Uint8Array }
export interface KeyStatusRequest { name: string, version: number }
export interface KeyStatusResponse { name: string, version: number, type: string, createdAt?: Timestamp, createdBy: string }
export interface ListKeysResponse { keys: KeyStatusResponse[], continueAt: string }

export interface EncryptRequest { name: string, version: number, plaintext: Uint8Array, associatedData: Uint8Array }
export interface EncryptResponse { version: number, ciphertext: Uint8Array }
/** `version` must not be 0. */
export interface DecryptRequest { name: string, version: number, ciphertext: Uint8Array, associatedData: Uint8Array }
export interface DecryptResponse { plaintext: Uint8Array }
/** `length` 0 means 32 bytes; at most 1024. */
export interface GenerateKeyRequest { name: string, version: number, associatedData: Uint8Array, length: number }
export interface GenerateKeyResponse { version: number, plaintext: Uint8Array, ciphertext: Uint8Array }
export interface MACRequest { name: string, version: number, message: Uint8Array }
export interface MACResponse { version: number, mac: Uint8Array }

/** A policy rule; it has no fields (yet). */
export type Rule = Record<string, never>
/** Name pattern (e.g. `my-key*`) to rule. */
export interface RuleSet { rules: Record<string, Rule> }

/** Allow/Deny keys are command text names (`KEY:ENCRYPT`, see commands.ts). */
export interface CreatePolicyRequest { name: string, allow: Record<string, RuleSet>, deny: Record<string, RuleSet> }
export interface DeletePolicyRequest { name: string }
export interface AssignPolicyRequest { identity: string, policy: string }
export interface PolicyRequest { name: string }
export interface PolicyResponse {
  name: string
  allow: Record<string, RuleSet>
  deny: Record<string, RuleSet>
  createdAt?: Timestamp
  createdBy: string
}
export interface PolicyStatusResponse { name: string, createdAt?: Timestamp, createdBy: string }
export interface ListPoliciesResponse { policies: PolicyStatusResponse[], continueAt: string }

/** `privilege` is the name: `SysAdmin`, `Admin` or `User`. */
export interface CreateIdentityRequest { identity: string, privilege: string, isServiceAccount: boolean, tags: Record<string, string> }
export interface DeleteIdentityRequest { identity: string }
export interface IdentityRequest { identity: string }
/** `privilege` is the number: SysAdmin 1, Admin 2, User 3. */
export interface IdentityResponse {
  identity: string
  privilege: number
  policy: string
  createdAt?: Timestamp
  createdBy: string
  isServiceAccount: boolean
  serviceAccounts: string[]
  tags: Record<string, string>
}
export interface ListIdentitiesResponse { identities: IdentityResponse[], continueAt: string }

/** Message name (as in the schema, without package) to its TypeScript shape. */
export interface MessageTypes {
  ErrResponse: ErrResponse
  VersionResponse: VersionResponse
  ServerStatusResponse: ServerStatusResponse
  ClusterStatusRequest: ClusterStatusRequest
  ClusterStatusResponse: ClusterStatusResponse
  AddClusterNodeRequest: AddClusterNodeRequest
  RemoveClusterNodeRequest: RemoveClusterNodeRequest
  EditClusterRequest: EditClusterRequest
  AddHSMRequest: AddHSMRequest
  RemoveHSMRequest: RemoveHSMRequest
  ListRequest: ListRequest
  CreateEnclaveRequest: CreateEnclaveRequest
  DeleteEnclaveRequest: DeleteEnclaveRequest
  EnclaveStatusRequest: EnclaveStatusRequest
  EnclaveStatusResponse: EnclaveStatusResponse
  ListEnclavesResponse: ListEnclavesResponse
  CreateKeyRequest: CreateKeyRequest
  DeleteKeyRequest: DeleteKeyRequest
  ImportKeyRequest: ImportKeyRequest
  KeyStatusRequest: KeyStatusRequest
  KeyStatusResponse: KeyStatusResponse
  ListKeysResponse: ListKeysResponse
  EncryptRequest: EncryptRequest
  EncryptResponse: EncryptResponse
  DecryptRequest: DecryptRequest
  DecryptResponse: DecryptResponse
  GenerateKeyRequest: GenerateKeyRequest
  GenerateKeyResponse: GenerateKeyResponse
  MACRequest: MACRequest
  MACResponse: MACResponse
  Rule: Rule
  RuleSet: RuleSet
  CreatePolicyRequest: CreatePolicyRequest
  DeletePolicyRequest: DeletePolicyRequest
  AssignPolicyRequest: AssignPolicyRequest
  PolicyRequest: PolicyRequest
  PolicyResponse: PolicyResponse
  PolicyStatusResponse: PolicyStatusResponse
  ListPoliciesResponse: ListPoliciesResponse
  CreateIdentityRequest: CreateIdentityRequest
  DeleteIdentityRequest: DeleteIdentityRequest
  IdentityRequest: IdentityRequest
  IdentityResponse: IdentityResponse
  ListIdentitiesResponse: ListIdentitiesResponse
}

/** A message name of the schema. */
export type MessageName = keyof MessageTypes

/** What encodeMessage accepts: any field may be left out (proto3 default), recursively. */
export type MessageInput<T> =
  T extends Uint8Array ? Uint8Array
    : T extends Array<infer E> ? Array<MessageInput<E>>
      : T extends object ? { [K in keyof T]?: MessageInput<T[K]> }
        : T
