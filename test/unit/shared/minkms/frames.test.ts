import t from 'tap'
import { decodeFrames, encodeCommandFrames, encodeFrames } from '../../../../shared/minkms/frames.js'
import { Command } from '../../../../shared/minkms/commands.js'
import { encodeMessage } from '../../../../shared/minkms/messages.js'
import { decodeRequest, encodeRequestFrame } from '../../../../shared/minkms/command-messages.js'
import { MinkmsProtocolError } from '../../../../shared/minkms/errors.js'
import { ENCLAVE_CREATE_BODY } from './fixtures/vectors.js'

t.test('ENCLAVE:CREATE body matches the vector byte for byte', async t => {
  const payload = encodeMessage('CreateEnclaveRequest', { name: 'aistor-key-manager' })
  t.equal(encodeFrames([{ command: Command.EnclaveCreate, payload }]).toString('hex'), ENCLAVE_CREATE_BODY)
  t.equal(Buffer.from(encodeFrames([encodeRequestFrame(Command.EnclaveCreate, { name: 'aistor-key-manager' })])).toString('hex'), ENCLAVE_CREATE_BODY)

  const frames = decodeFrames(Buffer.from(ENCLAVE_CREATE_BODY, 'hex'))
  t.equal(frames.length, 1)
  t.equal(frames[0]?.command, 101)
  t.same(decodeRequest(Command.EnclaveCreate, frames[0]?.payload ?? new Uint8Array()), { name: 'aistor-key-manager' })
})

t.test('several frames and empty payloads round trip', async t => {
  const body = encodeCommandFrames(Command.KeyStatus, [Buffer.from('a'), new Uint8Array(), Buffer.from('bcd')])
  t.equal(body.toString('hex'), '00cc0000000161' + '00cc00000000' + '00cc00000003626364')
  const frames = decodeFrames(body)
  t.same(frames.map(f => [f.command, Buffer.from(f.payload).toString()]), [[204, 'a'], [204, ''], [204, 'bcd']])
  t.same(decodeFrames(new Uint8Array()), [], 'an empty body is no frames')
})

t.test('decoding works on a view into a larger buffer', async t => {
  const big = Buffer.concat([Buffer.from('xxxx'), Buffer.from(ENCLAVE_CREATE_BODY, 'hex')])
  const frames = decodeFrames(big.subarray(4))
  t.equal(frames[0]?.command, 101)
  t.equal(frames[0]?.payload.length, 20)
})

t.test('truncated or garbage input is a protocol error', async t => {
  const full = Buffer.from(ENCLAVE_CREATE_BODY, 'hex')
  t.throws(() => decodeFrames(full.subarray(0, 3)), { code: 'SHR_MINKMS_PROTOCOL', message: /truncated frame header/ })
  t.throws(() => decodeFrames(full.subarray(0, full.length - 1)), { code: 'SHR_MINKMS_PROTOCOL', message: /truncated frame payload for command 101: 19 of 20/ })
  t.throws(() => decodeFrames(Buffer.from('<html>not frames</html>')), MinkmsProtocolError)
  t.throws(() => decodeFrames(Buffer.concat([full, Buffer.from([0])])), MinkmsProtocolError, 'trailing garbage after a frame')
})

t.test('encoding rejects commands that do not fit in a uint16', async t => {
  t.throws(() => encodeFrames([{ command: 0x10000, payload: new Uint8Array() }]), { code: 'SHR_MINKMS_PROTOCOL' })
  t.throws(() => encodeFrames([{ command: -1, payload: new Uint8Array() }]), MinkmsProtocolError)
  t.throws(() => encodeFrames([{ command: 1.5, payload: new Uint8Array() }]), MinkmsProtocolError)
})
