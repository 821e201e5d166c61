// POST /v1/kms/{enclave}: splits the body into frames, checks the batch rules and the caller's
// rights, runs each frame and joins the answers (one response frame per request frame). Reads run
// on this node; writes run on the leader (replication.ts), which other members forward them to.
import { BATCH_COMMANDS, Command, commandName, isClusterCommand, isCommandCode, isWriteCommand, type CommandCode } from '../../../shared/minkms/commands.js'
import { MinkmsProtocolError } from '../../../shared/minkms/errors.js'
import { decodeFrames, encodeFrames, type Frame } from '../../../shared/minkms/frames.js'
import { authorize } from './authz.js'
import { addHsm, addNode, clusterStatus, removeHsm } from './cluster-commands.js'
import type { CommandHandler } from './command-handler.js'
import { decrypt, encrypt, generate, mac } from './crypto-commands.js'
import { createEnclave, deleteEnclave, listEnclaves, statEnclave } from './enclave-commands.js'
import { createIdentity, deleteIdentity, listIdentities, statIdentity } from './identity-commands.js'
import { createKey, deleteKey, listKeys, statKey } from './key-commands.js'
import type { KeyDatabase } from './key-database.js'
import { badRequest, kmsError, unavailable } from './kms-error.js'
import type { EmulatorNode } from './node.js'

/** The commands the emulator implements; other known codes get 400 "not supported". */
const HANDLERS: ReadonlyMap<CommandCode, CommandHandler> = new Map<CommandCode, CommandHandler>([
  [Command.ClusterAddNode, addNode],
  [Command.ClusterStatus, clusterStatus],
  [Command.ClusterAddHsm, addHsm],
  [Command.ClusterRemoveHsm, removeHsm],
  [Command.EnclaveCreate, createEnclave],
  [Command.EnclaveDelete, deleteEnclave],
  [Command.EnclaveStatus, statEnclave],
  [Command.EnclaveList, listEnclaves],
  [Command.KeyCreate, createKey],
  [Command.KeyDelete, deleteKey],
  [Command.KeyStatus, statKey],
  [Command.KeyEncrypt, encrypt],
  [Command.KeyDecrypt, decrypt],
  [Command.KeyGenerate, generate],
  [Command.KeyList, listKeys],
  [Command.KeyMac, mac],
  [Command.IdentityCreate, createIdentity],
  [Command.IdentityDelete, deleteIdentity],
  [Command.IdentityStatus, statIdentity],
  [Command.IdentityList, listIdentities]
])

/** Writes that change the membership or the HSMs; they take the cluster lock themselves (cluster.ts). */
const MEMBERSHIP_COMMANDS: ReadonlySet<CommandCode> = new Set<CommandCode>([Command.ClusterAddNode, Command.ClusterAddHsm, Command.ClusterRemoveHsm])

export interface DispatchOptions {
  /** The request was forwarded by another member: run it here, never forward it again. */
  forwarded?: boolean
}

function splitFrames (body: Uint8Array): { command: CommandCode, frames: Frame[] } {
  let frames: Frame[]
  try {
    frames = decodeFrames(body)
  } catch (err) {
    throw badRequest(`malformed request body: ${(err as Error).message}`)
  }
  const first = frames[0]
  if (first === undefined) throw badRequest('empty request: expected at least one command frame')
  const other = frames.find((f) => f.command !== first.command)
  if (other !== undefined) {
    throw badRequest(`a request must not mix commands: ${commandName(first.command)} and ${commandName(other.command)}`)
  }
  if (!isCommandCode(first.command)) throw badRequest(`unknown command ${first.command}`)
  if (frames.length > 1 && !BATCH_COMMANDS.has(first.command)) {
    throw badRequest(`${commandName(first.command)} takes exactly one frame, got ${frames.length}`)
  }
  return { command: first.command, frames }
}

/**
 * Runs a request body for `caller` (undefined: no client certificate) in `enclave`; resolves
 * with the response body. Throws KmsHttpError for every non-200 answer.
 */
export async function dispatchKms (node: EmulatorNode, caller: string | undefined, enclave: string, body: Uint8Array,
  opts: DispatchOptions = {}): Promise<Buffer> {
  const { command, frames } = splitFrames(body)
  authorize(node, caller, command, enclave)
  const handler = HANDLERS.get(command)
  if (handler === undefined) throw badRequest(`${commandName(command)} is not supported by the minkms emulator`)
  if (!isClusterCommand(command)) {
    if (enclave === '') throw badRequest(`${commandName(command)} needs an enclave: POST /v1/kms/{enclave}`)
    if (node.db.enclave(enclave) === undefined) throw kmsError('enclaveNotFound')
  }
  const run = async (db: KeyDatabase): Promise<Buffer> => {
    const ctx = { node, caller: caller ?? '', enclave, db }
    const out: Frame[] = []
    for (const frame of frames) {
      let answer: Frame | undefined
      try {
        answer = await handler(ctx, frame.payload)
      } catch (err) {
        if (err instanceof MinkmsProtocolError) throw badRequest(`malformed ${commandName(command)} request: ${err.message}`)
        throw err
      }
      if (answer !== undefined) out.push(answer)
    }
    return encodeFrames(out)
  }
  if (!isWriteCommand(command)) return await run(node.db)
  if (!node.replication.isLeader) {
    if (opts.forwarded === true) {
      throw unavailable(`node ${node.cluster.info.nodeId} is not the leader of the cluster (node ${node.cluster.leaderId} is)`)
    }
    return await node.replication.forward(caller ?? '', enclave, body)
  }
  if (MEMBERSHIP_COMMANDS.has(command)) return await run(node.db)
  return await node.replication.write(run)
}
