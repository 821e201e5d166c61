import t from 'tap'
import { decodeMessage, encodeMessage, dateFromTimestamp, durationFromMs, msFromDuration, timestampFromDate } from '../../../../shared/minkms/messages.js'
import type { MessageName } from '../../../../shared/minkms/message-types.js'
import { MinkmsProtocolError } from '../../../../shared/minkms/errors.js'
import { PAYLOAD_VECTORS } from './fixtures/vectors.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

// Compares a decoded message with the vector's value: every field the vector sets must match.
function sameBytesAware (decoded: unknown): unknown {
  return JSON.parse(JSON.stringify(decoded, (_k, v: unknown) =>
    (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') ? Buffer.from((v as { data: number[] }).data).toString('hex') : v))
}

for (const v of PAYLOAD_VECTORS) {
  t.test(`${v.name} matches protoc byte for byte`, async t => {
    const name: MessageName = v.name
    t.equal(hex(encodeMessage(name, v.value as never)), v.hex, 'encode')
    const decoded = decodeMessage(name, Buffer.from(v.hex, 'hex'))
    t.has(sameBytesAware(decoded), sameBytesAware(v.value), 'decode')
    t.equal(hex(encodeMessage(name, decoded as never)), v.hex, 're-encoding the decoded value gives the same bytes')
  })
}

t.test('decode fills proto3 defaults and leaves absent sub-messages out', async t => {
  const s = decodeMessage('ServerStatusResponse', Buffer.from('1a0a6e6f6465313a37333733', 'hex'))
  t.equal(s.host, 'node1:7373')
  t.equal(s.id, 0)
  t.equal(s.leaderId, 0)
  t.equal(s.version, '')
  t.same(s.hsms, [])
  t.same(s.nodes, {})
  t.notOk('upTime' in s, 'absent Duration is not reported as null')
  const e = decodeMessage('EncryptResponse', new Uint8Array())
  t.ok(e.ciphertext instanceof Uint8Array)
  t.equal(e.ciphertext.length, 0)
})

t.test('zero values are not written, set sub-messages are', async t => {
  t.equal(hex(encodeMessage('DecryptRequest', { name: '', version: 0, ciphertext: new Uint8Array(), associatedData: new Uint8Array() })), '')
  t.equal(hex(encodeMessage('CreateKeyRequest', { name: 'k', addVersion: false, type: '' })), '0a016b')
  t.equal(hex(encodeMessage('EnclaveStatusResponse', { name: 'e', createdAt: { seconds: 0, nanos: 0 } })), '0a01651200')
  t.equal(hex(encodeMessage('EditClusterRequest', { removeIds: [] })), '')
})

t.test('64-bit and signed fields round trip as numbers', async t => {
  const bytes = encodeMessage('ServerStatusResponse', {
    commit: 2 ** 40, leaderId: -1, upTime: durationFromMs(1500), heapMemInUse: 123456789012, nodes: { 0: 'a:1', 7: 'b:2' }
  })
  const s = decodeMessage('ServerStatusResponse', bytes)
  t.equal(s.commit, 2 ** 40)
  t.equal(s.leaderId, -1)
  t.equal(s.heapMemInUse, 123456789012)
  t.same(s.upTime, { seconds: 1, nanos: 500_000_000 })
  t.same(s.nodes, { 0: 'a:1', 7: 'b:2' })
})

t.test('identity responses with maps, repeated fields and timestamps', async t => {
  const createdAt = timestampFromDate(new Date('2025-01-02T03:04:05.678Z'))
  const bytes = encodeMessage('ListIdentitiesResponse', {
    identities: [{ identity: 'h1:x', privilege: 2, createdAt, serviceAccounts: ['h1:y'], tags: { team: 'ops' } }],
    continueAt: 'h1:z'
  })
  const r = decodeMessage('ListIdentitiesResponse', bytes)
  t.equal(r.continueAt, 'h1:z')
  t.equal(r.identities.length, 1)
  const id = r.identities[0]
  t.equal(id?.privilege, 2)
  t.same(id?.tags, { team: 'ops' })
  t.same(id?.serviceAccounts, ['h1:y'])
  t.equal(id?.createdAt && dateFromTimestamp(id.createdAt).toISOString(), '2025-01-02T03:04:05.678Z')
})

t.test('policies: map of RuleSet with empty Rule values', async t => {
  const bytes = encodeMessage('CreatePolicyRequest', { name: 'p', allow: { 'KEY:ENCRYPT': { rules: { 'my-key*': {} } } } })
  const p = decodeMessage('CreatePolicyRequest', bytes)
  t.same(p, { name: 'p', allow: { 'KEY:ENCRYPT': { rules: { 'my-key*': {} } } }, deny: {} })
})

t.test('duration and timestamp helpers', async t => {
  t.equal(msFromDuration(durationFromMs(233)), 233)
  t.same(durationFromMs(-1500), { seconds: -1, nanos: -500_000_000 })
  t.same(timestampFromDate(new Date(1500)), { seconds: 1, nanos: 500_000_000 })
  t.equal(dateFromTimestamp({ seconds: 1, nanos: 999_999_999 }).getTime(), 1999)
})

t.test('garbage bytes give a protocol error', async t => {
  t.throws(() => decodeMessage('EncryptResponse', Buffer.from('12ff01', 'hex')), MinkmsProtocolError)
  const err = t.throws(() => decodeMessage('ErrResponse', Buffer.from('0a05ab', 'hex')))
  t.match(err, { code: 'SHR_MINKMS_PROTOCOL', message: /cannot decode ErrResponse/ })
})
