// IDENTITY:CREATE / DELETE / STATUS / LIST within the request's enclave.
import { PRIVILEGE_CODE, type Privilege } from '../../../shared/minkms/api.js'
import { Command } from '../../../shared/minkms/commands.js'
import { decodeRequest, encodeResponseFrame } from '../../../shared/minkms/command-messages.js'
import type { IdentityResponse } from '../../../shared/minkms/message-types.js'
import { timestampFromDate, type MessageInput } from '../../../shared/minkms/messages.js'
import { isRoot } from './authz.js'
import type { CommandHandler } from './command-handler.js'
import { checkDb } from './db-errors.js'
import type { IdentityRecord } from './key-database.js'
import { badRequest, kmsError } from './kms-error.js'
import { listPage } from './list-page.js'
import { isValidIdentity } from './names.js'

function isPrivilege (p: string): p is Privilege {
  return Object.hasOwn(PRIVILEGE_CODE, p)
}

function view (identity: string, r: IdentityRecord): MessageInput<IdentityResponse> {
  return {
    identity,
    privilege: PRIVILEGE_CODE[r.privilege],
    policy: r.policy,
    createdAt: timestampFromDate(new Date(r.createdAt)),
    createdBy: r.createdBy,
    isServiceAccount: r.isServiceAccount,
    serviceAccounts: r.serviceAccounts,
    tags: r.tags
  }
}

export const createIdentity: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.IdentityCreate, payload)
  if (!isValidIdentity(req.identity)) throw badRequest(`invalid identity '${req.identity.slice(0, 64)}': expected h1:…`)
  if (!isPrivilege(req.privilege)) throw badRequest(`invalid privilege '${req.privilege.slice(0, 32)}': expected SysAdmin, Admin or User`)
  // An enclave admin may not mint identities with more rights than its own.
  if (req.privilege === 'SysAdmin' && !isRoot(ctx.node, ctx.caller)) throw kmsError('permissionDenied')
  checkDb(await ctx.db.createIdentity(ctx.enclave, req.identity, {
    privilege: req.privilege,
    createdBy: ctx.caller,
    isServiceAccount: req.isServiceAccount,
    tags: { ...req.tags }
  }))
  ctx.node.log.info(`Created identity ${req.identity} (${req.privilege}) in enclave ${ctx.enclave}`)
  return undefined
}

export const deleteIdentity: CommandHandler = async (ctx, payload) => {
  const { identity } = decodeRequest(Command.IdentityDelete, payload)
  checkDb(await ctx.db.deleteIdentity(ctx.enclave, identity))
  ctx.node.log.info(`Deleted identity ${identity} in enclave ${ctx.enclave}`)
  return undefined
}

export const statIdentity: CommandHandler = async (ctx, payload) => {
  const { identity } = decodeRequest(Command.IdentityStatus, payload)
  const rec = ctx.node.db.identity(ctx.enclave, identity)
  if (rec === undefined) throw kmsError('identityNotFound')
  return encodeResponseFrame(Command.IdentityStatus, view(identity, rec))
}

export const listIdentities: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.IdentityList, payload)
  const page = listPage(ctx.node.db.identityNames(ctx.enclave) ?? [], req)
  const identities = page.items.flatMap((id) => {
    const rec = ctx.node.db.identity(ctx.enclave, id)
    return rec === undefined ? [] : [view(id, rec)]
  })
  return encodeResponseFrame(Command.IdentityList, { identities, continueAt: page.continueAt })
}
