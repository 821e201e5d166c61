// KEY:ENCRYPT / DECRYPT / GENERATE / MAC. Version 0 means the latest version, except for DECRYPT,
// where minkms requires an explicit version.
import { createHmac, randomBytes } from 'node:crypto'
import { Command } from '../../../shared/minkms/commands.js'
import { decodeRequest, encodeResponseFrame } from '../../../shared/minkms/command-messages.js'
import type { CommandHandler } from './command-handler.js'
import type { CommandContext } from './node.js'
import { decryptWith, encryptWith } from './key-crypto.js'
import type { KeyVersion } from './key-database.js'
import { badRequest, kmsError } from './kms-error.js'

/** Largest data key KEY:GENERATE makes. */
const MAX_GENERATE = 1024

function keyVersion (ctx: CommandContext, name: string, version: number): KeyVersion {
  const k = ctx.node.db.keyVersion(ctx.enclave, name, version)
  if (k === undefined) throw kmsError('keyNotFound')
  return k
}

export const encrypt: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.KeyEncrypt, payload)
  const k = keyVersion(ctx, req.name, req.version)
  const ciphertext = encryptWith(ctx.enclave, k, req.plaintext, req.associatedData)
  return encodeResponseFrame(Command.KeyEncrypt, { version: k.version, ciphertext })
}

export const decrypt: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.KeyDecrypt, payload)
  if (req.version === 0) throw badRequest('invalid key version: DecryptRequest.Version must not be 0')
  const k = keyVersion(ctx, req.name, req.version)
  const plaintext = decryptWith(ctx.enclave, k, req.ciphertext, req.associatedData)
  if (plaintext === undefined) throw kmsError('invalidCiphertext')
  return encodeResponseFrame(Command.KeyDecrypt, { plaintext })
}

export const generate: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.KeyGenerate, payload)
  const length = req.length === 0 ? 32 : req.length
  if (length > MAX_GENERATE) throw badRequest(`invalid length ${req.length}: at most ${MAX_GENERATE} bytes`)
  const k = keyVersion(ctx, req.name, req.version)
  const plaintext = randomBytes(length)
  const ciphertext = encryptWith(ctx.enclave, k, plaintext, req.associatedData)
  return encodeResponseFrame(Command.KeyGenerate, { version: k.version, plaintext, ciphertext })
}

export const mac: CommandHandler = async (ctx, payload) => {
  const req = decodeRequest(Command.KeyMac, payload)
  const k = keyVersion(ctx, req.name, req.version)
  const tag = createHmac('sha256', k.material).update(req.message).digest()
  return encodeResponseFrame(Command.KeyMac, { version: k.version, mac: tag })
}
