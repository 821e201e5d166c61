// The minkms API as keyroll uses it: the contract between the real client (client.ts), the
// emulator's server side (test/lab/emulator) and any test double. Message shapes follow minkms's
// protobuf definitions (package minio.kms, as minkms itself defines them), with the field
// names in lowerCamelCase.

/** Privilege of an identity: the wire sends the name in requests and the number in responses. */
export type Privilege = 'SysAdmin' | 'Admin' | 'User'
export const PRIVILEGE_CODE: Readonly<Record<Privilege, number>> = { SysAdmin: 1, Admin: 2, User: 3 }

export interface VersionInfo { version: string, commit: string, apiVersion: string, host: string, fips140: boolean }

export interface EnclaveStatus { name: string, createdAt?: Date, createdBy: string }

export interface IdentityStatus {
  identity: string
  privilege: Privilege
  policy: string
  createdAt?: Date
  createdBy: string
  isServiceAccount: boolean
  serviceAccounts: string[]
  tags: Record<string, string>
}

export interface KeyStatus { name: string, version: number, type: 'AES256' | 'ChaCha20', createdAt?: Date, createdBy: string }

export interface ListOptions { prefix?: string, continueAt?: string, limit?: number }
export interface ListPage<T> { items: T[], continueAt: string }

export interface EncryptResult { version: number, ciphertext: Uint8Array }
export interface GenerateKeyResult { version: number, plaintext: Uint8Array, ciphertext: Uint8Array }

/** One node as CLUSTER:STATUS reports it (ServerStatusResponse; only the fields keyroll reads). */
export interface ServerStatus {
  version: string
  apiVersion: string
  host: string
  /** Uptime in milliseconds. */
  upTimeMs: number
  role: 'Leader' | 'Follower' | 'Candidate' | string
  commit: number
  nodes: Record<number, string>
  id: number
  leaderId: number
  /** HSMs with a sealed root-encryption-key entry on this node's disk. */
  hsms: string[]
  /** HSMs configured on this node now. */
  configuredHsms: string[]
}

export interface ClusterStatus {
  nodesUp: Record<number, ServerStatus>
  /** Node id to host of nodes that did not answer. */
  nodesDown: Record<number, string>
}

/** What keyroll calls on a minkms cluster. All methods reject with a MinkmsError (errors.ts). */
export interface MinkmsApi {
  version (): Promise<VersionInfo>
  /** true when GET /v1/health/live answers 200. */
  live (): Promise<boolean>
  /** true when GET /v1/health/ready (with `write`: /v1/health/ready?write) answers 200. */
  ready (opts?: { write?: boolean }): Promise<boolean>

  createEnclave (name: string): Promise<void>
  enclaveStatus (name: string): Promise<EnclaveStatus>
  listEnclaves (opts?: ListOptions): Promise<ListPage<EnclaveStatus>>

  createIdentity (enclave: string, req: { identity: string, privilege: Privilege, isServiceAccount?: boolean, tags?: Record<string, string> }): Promise<void>
  identityStatus (enclave: string, identity: string): Promise<IdentityStatus>
  listIdentities (enclave: string, opts?: ListOptions): Promise<ListPage<IdentityStatus>>

  createKey (enclave: string, name: string, opts?: { type?: 'AES256' | 'ChaCha20', addVersion?: boolean }): Promise<void>
  keyStatus (enclave: string, name: string, opts?: { version?: number }): Promise<KeyStatus>
  listKeys (enclave: string, opts?: ListOptions): Promise<ListPage<KeyStatus>>
  encrypt (enclave: string, name: string, plaintext: Uint8Array, opts?: { version?: number, associatedData?: Uint8Array }): Promise<EncryptResult>
  decrypt (enclave: string, name: string, ciphertext: Uint8Array, opts: { version: number, associatedData?: Uint8Array }): Promise<Uint8Array>
  generateKey (enclave: string, name: string, opts?: { version?: number, associatedData?: Uint8Array, length?: number }): Promise<GenerateKeyResult>

  clusterStatus (): Promise<ClusterStatus>
  /** CLUSTER:ADDNODE: `host` is the new node's host:port as given to its `--host`. */
  addNode (host: string): Promise<void>
  addHsm (name: string, opts?: { overwrite?: boolean }): Promise<void>
  removeHsm (name: string): Promise<void>
}
