import t from 'tap'
import { fieldText, fullUnitName, parseJournalLine } from '../../../../agent/os/journal-entry-parser.js'

const U = 'minkms.service'
const base = { __CURSOR: 's=1;i=2', __REALTIME_TIMESTAMP: '1795878992632749' }

t.test('fieldText: strings, byte arrays (UTF-8), several values, null', async (t) => {
  t.equal(fieldText('x'), 'x')
  t.equal(fieldText([101, 115, 99, 27, 104, 105]), 'esc\u001bhi')
  t.equal(fieldText([...Buffer.from('grüß', 'utf8')]), 'grüß')
  t.equal(fieldText(['first', 'second']), 'first')
  t.equal(fieldText([[104, 105], 'x']), 'hi')
  t.equal(fieldText(null), undefined)
  t.equal(fieldText(3), undefined)
})

t.test('fullUnitName adds .service like journalctl -u does', async (t) => {
  t.equal(fullUnitName('minkms'), 'minkms.service')
  t.equal(fullUnitName('minkms.service'), 'minkms.service')
  t.equal(fullUnitName('x.socket'), 'x.socket')
})

t.test('the unit\'s own line: _SYSTEMD_UNIT and _SYSTEMD_INVOCATION_ID', async (t) => {
  const e = parseJournalLine(JSON.stringify({ ...base, MESSAGE: '=> Server is up and running...', _SYSTEMD_UNIT: U, _SYSTEMD_INVOCATION_ID: 'aa', _PID: '65', PRIORITY: '6' }), U)
  t.same(e, { cursor: 's=1;i=2', realtimeUs: 1795878992632749, message: '=> Server is up and running...', origin: 'unit', unit: U, invocationId: 'aa', pid: 65, priority: 6 })
})

t.test('systemd\'s message about the unit: UNIT= and INVOCATION_ID= (measured on 252)', async (t) => {
  const e = parseJournalLine(JSON.stringify({ ...base, MESSAGE: 'Started minkms.service - MinKMS.', _SYSTEMD_UNIT: 'init.scope', UNIT: U, INVOCATION_ID: 'bb', _PID: '1', PRIORITY: '6' }), U)
  t.equal(e?.origin, 'manager')
  t.equal(e?.unit, U)
  t.equal(e?.invocationId, 'bb')
  t.equal(e?.pid, 1)
})

t.test('another process writing about the unit: its invocation is not taken for the unit\'s', async (t) => {
  const e = parseJournalLine(JSON.stringify({ ...base, MESSAGE: 'Process 65 (node) dumped core.', _SYSTEMD_UNIT: 'systemd-coredump@0.service', _SYSTEMD_INVOCATION_ID: 'cc', _PID: '99' }), U)
  t.equal(e?.origin, 'other')
  t.equal(e?.invocationId, undefined)
  t.equal(e?.unit, 'systemd-coredump@0.service')
})

t.test('byte-array MESSAGE and a null (too large) one', async (t) => {
  t.equal(parseJournalLine(JSON.stringify({ ...base, MESSAGE: [70, 65, 84, 65, 76, 27], _SYSTEMD_UNIT: U }), U)?.message, 'FATAL\u001b')
  t.equal(parseJournalLine(JSON.stringify({ ...base, MESSAGE: null, _SYSTEMD_UNIT: U }), U)?.message, '')
})

t.test('not an entry: bad JSON, no cursor, no timestamp, not an object', async (t) => {
  t.equal(parseJournalLine('{', U), undefined)
  t.equal(parseJournalLine('', U), undefined)
  t.equal(parseJournalLine('[1]', U), undefined)
  t.equal(parseJournalLine(JSON.stringify({ MESSAGE: 'x', __REALTIME_TIMESTAMP: '1' }), U), undefined)
  t.equal(parseJournalLine(JSON.stringify({ MESSAGE: 'x', __CURSOR: 'c' }), U), undefined)
  t.equal(parseJournalLine(JSON.stringify({ ...base, _PID: 'x', PRIORITY: '' }), U)?.pid, undefined)
})
