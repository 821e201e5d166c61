// Which protobuf message each command carries (minkms.md §4.3 table), so both sides can turn a
// frame into a typed value: the client encodes requests and decodes responses, the emulator does
// the opposite. Write commands have no response message: the server's 200 body is not parsed.
import { Command, type CommandCode } from './commands.js'
import type { Frame } from './frames.js'
import { decodeMessage, encodeMessage } from './messages.js'
import type { MessageInput, MessageName, MessageTypes } from './message-types.js'

/** Request and (for reads) response message of one command. */
export interface CommandMessages { readonly request: MessageName, readonly response?: MessageName }

/** Command code to its messages. KEY:LISTVERSIONS (209) is left out: its messages are unknown. */
export const COMMAND_MESSAGES = {
  [Command.ClusterAddNode]: { request: 'AddClusterNodeRequest' },
  [Command.ClusterRemoveNode]: { request: 'RemoveClusterNodeRequest' },
  [Command.ClusterStatus]: { request: 'ClusterStatusRequest', response: 'ClusterStatusResponse' },
  [Command.ClusterEdit]: { request: 'EditClusterRequest' },
  [Command.ClusterAddHsm]: { request: 'AddHSMRequest' },
  [Command.ClusterRemoveHsm]: { request: 'RemoveHSMRequest' },
  [Command.EnclaveCreate]: { request: 'CreateEnclaveRequest' },
  [Command.EnclaveDelete]: { request: 'DeleteEnclaveRequest' },
  [Command.EnclaveStatus]: { request: 'EnclaveStatusRequest', response: 'EnclaveStatusResponse' },
  [Command.EnclaveList]: { request: 'ListRequest', response: 'ListEnclavesResponse' },
  [Command.KeyCreate]: { request: 'CreateKeyRequest' },
  [Command.KeyDelete]: { request: 'DeleteKeyRequest' },
  [Command.KeyImport]: { request: 'ImportKeyRequest' },
  [Command.KeyStatus]: { request: 'KeyStatusRequest', response: 'KeyStatusResponse' },
  [Command.KeyEncrypt]: { request: 'EncryptRequest', response: 'EncryptResponse' },
  [Command.KeyDecrypt]: { request: 'DecryptRequest', response: 'DecryptResponse' },
  [Command.KeyGenerate]: { request: 'GenerateKeyRequest', response: 'GenerateKeyResponse' },
  [Command.KeyList]: { request: 'ListRequest', response: 'ListKeysResponse' },
  [Command.KeyMac]: { request: 'MACRequest', response: 'MACResponse' },
  [Command.PolicyCreate]: { request: 'CreatePolicyRequest' },
  [Command.PolicyDelete]: { request: 'DeletePolicyRequest' },
  [Command.PolicyAssign]: { request: 'AssignPolicyRequest' },
  [Command.PolicyGet]: { request: 'PolicyRequest', response: 'PolicyResponse' },
  [Command.PolicyStatus]: { request: 'PolicyRequest', response: 'PolicyStatusResponse' },
  [Command.PolicyList]: { request: 'ListRequest', response: 'ListPoliciesResponse' },
  [Command.IdentityCreate]: { request: 'CreateIdentityRequest' },
  [Command.IdentityDelete]: { request: 'DeleteIdentityRequest' },
  [Command.IdentityStatus]: { request: 'IdentityRequest', response: 'IdentityResponse' },
  [Command.IdentityList]: { request: 'ListRequest', response: 'ListIdentitiesResponse' }
} as const satisfies Record<Exclude<CommandCode, typeof Command.KeyListVersions>, CommandMessages>

/** A command with known messages. */
export type MessageCommand = keyof typeof COMMAND_MESSAGES
/** Commands that answer with a message (reads). */
export type ReadCommand = { [C in MessageCommand]: typeof COMMAND_MESSAGES[C] extends { response: MessageName } ? C : never }[MessageCommand]

/** Request message type of command `C`. */
export type RequestOf<C extends MessageCommand> = MessageTypes[typeof COMMAND_MESSAGES[C]['request']]
/** Response message type of read command `C`. */
export type ResponseOf<C extends ReadCommand> = typeof COMMAND_MESSAGES[C] extends { response: infer R extends MessageName } ? MessageTypes[R] : never

/** True when `code` has known messages (every known command except KEY:LISTVERSIONS). */
export function isMessageCommand (code: number): code is MessageCommand {
  return Object.hasOwn(COMMAND_MESSAGES, code)
}

/** Encodes a request frame for command `C`. */
export function encodeRequestFrame<C extends MessageCommand> (command: C, value: MessageInput<RequestOf<C>>): Frame {
  const name = COMMAND_MESSAGES[command].request
  return { command, payload: encodeMessage(name, value as MessageInput<MessageTypes[typeof name]>) }
}

/** Decodes a request payload of command `C` (the emulator's side). */
export function decodeRequest<C extends MessageCommand> (command: C, payload: Uint8Array): RequestOf<C> {
  return decodeMessage(COMMAND_MESSAGES[command].request, payload) as RequestOf<C>
}

/** Encodes a response frame for read command `C` (the emulator's side). */
export function encodeResponseFrame<C extends ReadCommand> (command: C, value: MessageInput<ResponseOf<C>>): Frame {
  const name = (COMMAND_MESSAGES[command] as CommandMessages).response as MessageName
  return { command, payload: encodeMessage(name, value as MessageInput<MessageTypes[typeof name]>) }
}

/** Decodes a response payload of read command `C`. */
export function decodeResponse<C extends ReadCommand> (command: C, payload: Uint8Array): ResponseOf<C> {
  const name = (COMMAND_MESSAGES[command] as CommandMessages).response as MessageName
  return decodeMessage(name, payload) as ResponseOf<C>
}
