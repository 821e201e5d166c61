import t from 'tap'
import {
  BATCH_COMMANDS, CLUSTER_COMMANDS, COMMAND_NAMES, Command, POLICY_COMMAND_NAMES, WRITE_COMMANDS,
  commandName, isClusterCommand, isCommandCode, isWriteCommand
} from '../../../../shared/minkms/commands.js'
import { COMMAND_MESSAGES, decodeResponse, encodeResponseFrame, isMessageCommand } from '../../../../shared/minkms/command-messages.js'

t.test('codes and text names follow minkms.md §4.3', async t => {
  t.equal(Command.EnclaveCreate, 101)
  t.equal(Command.KeyCreate, 201)
  t.equal(Command.KeyMac, 210)
  t.equal(Command.IdentityList, 404)
  t.equal(commandName(Command.EnclaveCreate), 'ENCLAVE:CREATE')
  t.equal(commandName(Command.ClusterRemoveHsm), 'CLUSTER:REMOVEHSM')
  t.equal(commandName(Command.KeyGenerate), 'KEY:GENERATE')
  t.equal(commandName(999), 'UNKNOWN(999)')
  t.equal(new Set(Object.values(COMMAND_NAMES)).size, Object.keys(COMMAND_NAMES).length, 'names are unique')
  for (const code of Object.values(Command)) t.ok(isCommandCode(code), `${code} has a name`)
  t.notOk(isCommandCode(7))
  t.notOk(POLICY_COMMAND_NAMES.has('KEY:IMPORT'), 'KEY:IMPORT has no SDK name a policy could use')
  t.ok(POLICY_COMMAND_NAMES.has('KEY:ENCRYPT'))
})

t.test('cluster-level and write commands', async t => {
  t.same([...CLUSTER_COMMANDS].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 101, 102, 103, 104])
  t.same([...WRITE_COMMANDS].sort((a, b) => a - b), [1, 2, 4, 5, 6, 101, 102, 201, 202, 203, 301, 302, 303, 401, 402])
  t.ok(isClusterCommand(Command.EnclaveList))
  t.notOk(isClusterCommand(Command.KeyCreate))
  t.ok(isWriteCommand(Command.IdentityCreate))
  t.notOk(isWriteCommand(Command.ClusterStatus))
  for (const c of BATCH_COMMANDS) t.notOk(WRITE_COMMANDS.has(c), `batch command ${c} is a read`)
})

t.test('every read command has a response message, no write command has one', async t => {
  for (const code of Object.values(Command)) {
    if (!isMessageCommand(code)) {
      t.equal(code, Command.KeyListVersions, 'only KEY:LISTVERSIONS lacks messages')
      continue
    }
    const m: { request: string, response?: string } = COMMAND_MESSAGES[code]
    t.equal(m.response === undefined, isWriteCommand(code), `${commandName(code)}: response iff read`)
  }
})

t.test('response frames round trip through the command table', async t => {
  const frame = encodeResponseFrame(Command.KeyEncrypt, { version: 1, ciphertext: Buffer.from([1, 2, 3]) })
  t.equal(frame.command, 205)
  t.equal(Buffer.from(frame.payload).toString('hex'), '08011203010203')
  const r = decodeResponse(Command.KeyEncrypt, frame.payload)
  t.equal(r.version, 1)
  t.equal(Buffer.from(r.ciphertext).toString('hex'), '010203')
})
