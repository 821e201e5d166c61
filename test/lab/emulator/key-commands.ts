// KEY:CREATE / DELETE / STATUS / LIST within the request's enclave.
import { Command } from '../../../shared/minkms/commands.js'
import { decodeRequest, encodeResponseFrame } from '../../../shared/minkms/command-messages.js'
import { timestampFromDate } from '../../../shared/minkms/messages.js'
import type { CommandHandler } from './command-handler.js'
import { checkDb } from './db-errors.js'
import type { KeyDatabase, KeyType } from './key-database.js'
import { badRequest, kmsError } from './kms-error.js'
import { listPage } from './list-page.js'
import { isValidName } from './names.js'

function keyType (t: string): KeyType {
  if (t === '' || t === 'AES256') return 'AES256'
  if (t === 'ChaCha20') return 'ChaCha20'
  throw badRequest(`invalid key type '${t.slice(0, 32)}': expected AES256 or ChaCha20`)
}

function status (db: KeyDatabase, enclave: string, name: string, version: number): {
  name: string, version: number, type: string, createdAt: ReturnType<typeof timestampFromDate>, createdBy: string
} {
  const k = db.keyVersion(enclave, name, version)
  if (k === undefined) throw kmsError('keyNotFound')
  return { name, version: k.version, type: k.type, createdAt: timestampFromDate(new Date(k.createdAt)), createdBy: k.createdBy }
}

export const createKey: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.KeyCreate, payload)
  if (!isValidName(req.name)) throw badRequest(`invalid key name '${req.name.slice(0, 100)}'`)
  checkDb(await ctx.db.createKey(ctx.enclave, req.name, keyType(req.type), req.addVersion, ctx.caller))
  ctx.node.log.info(`${req.addVersion ? 'Added a version to' : 'Created'} key ${req.name} in enclave ${ctx.enclave}`)
  return undefined
}

export const deleteKey: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.KeyDelete, payload)
  checkDb(await ctx.db.deleteKey(ctx.enclave, req.name, req.version, req.allVersions))
  ctx.node.log.info(`Deleted key ${req.name}${req.version > 0 && !req.allVersions ? ` version ${req.version}` : ''} in enclave ${ctx.enclave}`)
  return undefined
}

export const statKey: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.KeyStatus, payload)
  return encodeResponseFrame(Command.KeyStatus, status(ctx.node.db, ctx.enclave, req.name, req.version))
}

export const listKeys: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.KeyList, payload)
  const page = listPage(ctx.node.db.keyNames(ctx.enclave) ?? [], req)
  return encodeResponseFrame(Command.KeyList, {
    keys: page.items.map((n) => status(ctx.node.db, ctx.enclave, n, 0)),
    continueAt: page.continueAt
  })
}
