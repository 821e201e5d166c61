import t from 'tap'
import { errorMessageOf } from '../../../../shared/minkms/error-body.js'
import { encodeMessage } from '../../../../shared/minkms/messages.js'

t.test('decodes by Content-Type', async t => {
  t.equal(errorMessageOf('application/octet-stream', encodeMessage('ErrResponse', { message: 'key does not exist' })), 'key does not exist')
  t.equal(errorMessageOf('application/json; charset=utf-8', Buffer.from('{"message":"enclave does not exist"}')), 'enclave does not exist')
  t.equal(errorMessageOf('text/plain', Buffer.from('invalid ciphertext\n')), 'invalid ciphertext')
  t.equal(errorMessageOf(undefined, Buffer.from('plain')), 'plain')
})

t.test('bodies that do not match their Content-Type fall back to text', async t => {
  t.equal(errorMessageOf('application/json', Buffer.from('not json')), 'not json')
  t.equal(errorMessageOf('application/json', Buffer.from('{"error":"x"}')), '{"error":"x"}')
  t.equal(errorMessageOf('application/json', Buffer.from('null')), 'null')
  t.equal(errorMessageOf('application/octet-stream', Buffer.from('0a05ab', 'hex')), Buffer.from('0a05ab', 'hex').toString('utf8').trim())
})
