// ENCLAVE:CREATE / DELETE / STATUS / LIST (root only; authz.ts checks that).
import { Command } from '../../../shared/minkms/commands.js'
import { decodeRequest, encodeResponseFrame } from '../../../shared/minkms/command-messages.js'
import { timestampFromDate } from '../../../shared/minkms/messages.js'
import type { CommandHandler } from './command-handler.js'
import { checkDb } from './db-errors.js'
import { badRequest, kmsError } from './kms-error.js'
import { listPage } from './list-page.js'
import { isValidName } from './names.js'
import type { EmulatorNode } from './node.js'

function enclaveStatus (node: EmulatorNode, name: string): { name: string, createdAt: ReturnType<typeof timestampFromDate>, createdBy: string } {
  const e = node.db.enclave(name)
  if (e === undefined) throw kmsError('enclaveNotFound')
  return { name, createdAt: timestampFromDate(new Date(e.createdAt)), createdBy: e.createdBy }
}

export const createEnclave: CommandHandler = async (ctx, payload) => {
  const { name } = decodeRequest(Command.EnclaveCreate, payload)
  if (!isValidName(name)) throw badRequest(`invalid enclave name '${name}'`)
  checkDb(await ctx.db.createEnclave(name, ctx.caller))
  ctx.node.log.info(`Created enclave ${name}`)
  return undefined
}

export const deleteEnclave: CommandHandler = async (ctx, payload) => {
  const { name } = decodeRequest(Command.EnclaveDelete, payload)
  checkDb(await ctx.db.deleteEnclave(name))
  ctx.node.log.info(`Deleted enclave ${name}`)
  return undefined
}

export const statEnclave: CommandHandler = async (ctx, payload) => {
  const { name } = decodeRequest(Command.EnclaveStatus, payload)
  return encodeResponseFrame(Command.EnclaveStatus, enclaveStatus(ctx.node, name))
}

export const listEnclaves: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.EnclaveList, payload)
  const page = listPage(ctx.node.db.enclaveNames(), req)
  return encodeResponseFrame(Command.EnclaveList, {
    enclaves: page.items.map((n) => enclaveStatus(ctx.node, n)),
    continueAt: page.continueAt
  })
}
