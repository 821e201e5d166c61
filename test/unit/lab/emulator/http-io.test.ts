import t from 'tap'
import { prefersJson } from '../../../lab/emulator/http-io.js'
import { formatLogLine } from '../../../lab/emulator/log.js'

t.test('Accept negotiation', async (t) => {
  t.equal(prefersJson(undefined), false)
  t.equal(prefersJson('application/*'), false, 'the SDK default gets protobuf')
  t.equal(prefersJson('application/json'), true)
  t.equal(prefersJson('application/octet-stream, application/json;q=0.5'), false)
  t.equal(prefersJson('application/json, application/octet-stream;q=0.9'), true)
  t.equal(prefersJson('*/*'), false)
})

t.test('log line format', async (t) => {
  const d = new Date(2026, 2, 22, 7, 9, 58)
  t.equal(formatLogLine('INFO', 'Starting server instance...', d), '2026-03-22 07:09:58 INFO  Starting server instance...')
  t.equal(formatLogLine('FATAL', 'kms: no HSM provided', d), '2026-03-22 07:09:58 FATAL kms: no HSM provided')
  t.equal(formatLogLine('WARN', 'two\n  lines', d), '2026-03-22 07:09:58 WARN  two lines')
})
