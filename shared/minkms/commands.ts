// minkms command codes (minkms.md §4.3, SDK kms/cmds/command.go). A request body is a list of
// frames; each frame starts with one of these codes. The text names are what policies use as
// their Allow/Deny keys, so they must match the server's spelling exactly.

/** Command codes of the `/v1/kms/{enclave}` binary protocol. */
export const Command = {
  ClusterAddNode: 1,
  ClusterRemoveNode: 2,
  ClusterStatus: 3,
  ClusterEdit: 4,
  ClusterAddHsm: 5,
  ClusterRemoveHsm: 6,

  EnclaveCreate: 101,
  EnclaveDelete: 102,
  EnclaveStatus: 103,
  EnclaveList: 104,

  KeyCreate: 201,
  KeyDelete: 202,
  KeyImport: 203,
  KeyStatus: 204,
  KeyEncrypt: 205,
  KeyDecrypt: 206,
  KeyGenerate: 207,
  KeyList: 208,
  KeyListVersions: 209,
  KeyMac: 210,

  PolicyCreate: 301,
  PolicyDelete: 302,
  PolicyAssign: 303,
  PolicyGet: 304,
  PolicyStatus: 305,
  PolicyList: 306,

  IdentityCreate: 401,
  IdentityDelete: 402,
  IdentityStatus: 403,
  IdentityList: 404
} as const

/** Name of a command in {@link Command}. */
export type CommandName = keyof typeof Command
/** A known command code. */
export type CommandCode = typeof Command[CommandName]

/**
 * Command code to the server's text name (`ENCLAVE:CREATE`, ...).
 * KEY:IMPORT has no text name in the SDK; the one here is ours, for logs and error messages only,
 * which is why {@link POLICY_COMMAND_NAMES} leaves it out.
 */
export const COMMAND_NAMES: Readonly<Record<CommandCode, string>> = {
  1: 'CLUSTER:ADDNODE',
  2: 'CLUSTER:REMOVENODE',
  3: 'CLUSTER:STATUS',
  4: 'CLUSTER:EDIT',
  5: 'CLUSTER:ADDHSM',
  6: 'CLUSTER:REMOVEHSM',
  101: 'ENCLAVE:CREATE',
  102: 'ENCLAVE:DELETE',
  103: 'ENCLAVE:STATUS',
  104: 'ENCLAVE:LIST',
  201: 'KEY:CREATE',
  202: 'KEY:DELETE',
  203: 'KEY:IMPORT',
  204: 'KEY:STATUS',
  205: 'KEY:ENCRYPT',
  206: 'KEY:DECRYPT',
  207: 'KEY:GENERATE',
  208: 'KEY:LIST',
  209: 'KEY:LISTVERSIONS',
  210: 'KEY:MAC',
  301: 'POLICY:CREATE',
  302: 'POLICY:DELETE',
  303: 'POLICY:ASSIGN',
  304: 'POLICY:GET',
  305: 'POLICY:STATUS',
  306: 'POLICY:LIST',
  401: 'IDENTITY:CREATE',
  402: 'IDENTITY:DELETE',
  403: 'IDENTITY:STATUS',
  404: 'IDENTITY:LIST'
}

/** Text names a policy's Allow/Deny map may use as keys (every command except KEY:IMPORT). */
export const POLICY_COMMAND_NAMES: ReadonlySet<string> = new Set(
  Object.entries(COMMAND_NAMES).filter(([code]) => Number(code) !== Command.KeyImport).map(([, name]) => name))

/** Commands sent to `/v1/kms/` with an empty enclave; only SysAdmin may run them. */
export const CLUSTER_COMMANDS: ReadonlySet<CommandCode> = new Set<CommandCode>([
  Command.ClusterAddNode, Command.ClusterRemoveNode, Command.ClusterStatus, Command.ClusterEdit,
  Command.ClusterAddHsm, Command.ClusterRemoveHsm,
  Command.EnclaveCreate, Command.EnclaveDelete, Command.EnclaveStatus, Command.EnclaveList
])

/**
 * Commands that change server state. They need the N-of-N write quorum, get no parsed response
 * body, and must not be retried blindly on another node once they may have reached one.
 */
export const WRITE_COMMANDS: ReadonlySet<CommandCode> = new Set<CommandCode>([
  Command.ClusterAddNode, Command.ClusterRemoveNode, Command.ClusterEdit, Command.ClusterAddHsm,
  Command.ClusterRemoveHsm,
  Command.EnclaveCreate, Command.EnclaveDelete,
  Command.KeyCreate, Command.KeyDelete, Command.KeyImport,
  Command.PolicyCreate, Command.PolicyDelete, Command.PolicyAssign,
  Command.IdentityCreate, Command.IdentityDelete
])

/**
 * Commands whose request may hold several frames (a batch), each answered by one response frame.
 * Every other read command (lists, CLUSTER:STATUS) takes exactly one frame and answers with one.
 */
export const BATCH_COMMANDS: ReadonlySet<CommandCode> = new Set<CommandCode>([
  Command.KeyStatus, Command.KeyEncrypt, Command.KeyDecrypt, Command.KeyGenerate, Command.KeyMac,
  Command.EnclaveStatus, Command.PolicyStatus, Command.PolicyGet, Command.IdentityStatus
])

/** True when `code` is a command this module knows. */
export function isCommandCode (code: number): code is CommandCode {
  return Object.hasOwn(COMMAND_NAMES, code)
}

/** The text name of `code`, or `UNKNOWN(<code>)` for codes this module does not know. */
export function commandName (code: number): string {
  return isCommandCode(code) ? COMMAND_NAMES[code] : `UNKNOWN(${code})`
}

/** True for commands addressed to the cluster (`/v1/kms/`, empty enclave). */
export function isClusterCommand (code: number): boolean {
  return CLUSTER_COMMANDS.has(code as CommandCode)
}

/** True for commands that change server state. */
export function isWriteCommand (code: number): boolean {
  return WRITE_COMMANDS.has(code as CommandCode)
}
