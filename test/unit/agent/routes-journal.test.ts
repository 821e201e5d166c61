import t from 'tap'
import { OsPortError } from '../../../agent/errors.js'
import { buildTestAgent } from '../../helpers/fake-agent-core.js'
import { rootIdentityOfLine } from '../../../shared/minkms/journal-lines.js'
import { generateApiKey } from '../../../shared/minkms/keys.js'

function lines (body: string): Array<Record<string, unknown>> {
  return body === '' ? [] : body.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
}

t.test('GET /v1/journal: entries of the unit as NDJSON, resumable by cursor', async t => {
  const { app, core } = await buildTestAgent(t)
  const [starting] = core.journal.push({ message: 'starting' }, { message: 'other unit', unit: 'sshd.service' })
  const [up] = core.journal.push({ message: '=> Server is up and running...', invocationId: 'b'.repeat(32), pid: 7, priority: 6, realtimeUs: 1_700_000_000_000_003 })
  const all = await app.inject('/v1/journal')
  t.equal(all.statusCode, 200)
  t.equal(all.headers['content-type'], 'application/x-ndjson; charset=utf-8')
  t.same(lines(all.body).map(e => e.message), ['starting', '=> Server is up and running...'], 'only the managed unit')
  t.same(lines(all.body)[1], { cursor: up?.cursor, realtimeUs: 1_700_000_000_000_003, message: '=> Server is up and running...', invocationId: 'b'.repeat(32), pid: 7, priority: 6, unit: 'minkms.service' })
  const after = await app.inject(`/v1/journal?after=${starting?.cursor ?? ''}`)
  t.same(lines(after.body).map(e => e.cursor), [up?.cursor])
  const limited = await app.inject('/v1/journal?limit=1')
  t.same(lines(limited.body).map(e => e.cursor), [up?.cursor], 'without a cursor a limit keeps the newest, as journalctl -n does')
  const unknown = await app.inject(`/v1/journal?after=s%3D${'0'.repeat(32)}%3Bi%3Dfff`)
  t.equal(unknown.statusCode, 502, 'a well-formed cursor journald does not know is refused, as journalctl refuses it')
  const garbage = await app.inject('/v1/journal?after=s%3Dgone')
  t.equal(garbage.statusCode, 400, 'what is not a cursor never reaches journalctl')
  // Of the cursor's form, but journald could not read it (journalctl would exit 1): a 400 too.
  for (const c of ['s%3D0%3Bi%3D1', 'i%3D1', 'x%3D1', `b%3D${'0'.repeat(31)}%3Bm%3D1`]) {
    const r = await app.inject(`/v1/journal?after=${c}`)
    t.equal(r.statusCode, 400, `${c}: refused before journalctl`)
    t.match(r.json(), { code: 'SHR_VALIDATION', message: /querystring\.after: .*cursor exactly as a journal entry carries it/ })
  }
  t.equal(core.journal.calls.filter(c => c.method === 'read').length, 4, 'journalctl asked only for the cursors it can read')
})

t.test('query validation', async t => {
  const { app } = await buildTestAgent(t)
  for (const q of ['limit=0', 'limit=10001', 'limit=x', 'follow=maybe', 'after=', 'cursor=c1']) {
    const r = await app.inject(`/v1/journal?${q}`)
    t.equal(r.statusCode, 400, q)
    t.equal(r.json().code, 'SHR_VALIDATION', q)
  }
})

t.test('a journal that cannot be read: error response before streaming, code kept', async t => {
  const { app, core } = await buildTestAgent(t)
  core.journal.failWith = new OsPortError('AGT_JOURNAL_READ_FAILED', 'journalctl exited 1', { stderr: 'Failed to open journal' })
  const r = await app.inject('/v1/journal')
  t.equal(r.statusCode, 502)
  t.match(r.json(), { code: 'AGT_JOURNAL_READ_FAILED', message: /^internal error/ })
})

t.test('journal messages that hold keys are masked', async t => {
  const { app, core } = await buildTestAgent(t)
  core.journal.push({ message: 'using API key k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw' })
  const r = await app.inject('/v1/journal')
  t.same(lines(r.body).map(e => e.message), ['using API key ***'])
})

t.test("the banner's API Key line keeps the key's identity, never the key", async t => {
  const { app, core } = await buildTestAgent(t)
  const { key, identity } = generateApiKey('k1')
  core.journal.push({ message: `API Key        ${key}` }, { message: 'API Key        k1:not-a-valid-key-but-long-enough' })
  const r = await app.inject('/v1/journal')
  const messages = lines(r.body).map(e => e.message)
  t.same(messages, [`API Key        k1:*** (${identity})`, 'API Key        ***'], 'the safe form; a key that does not parse plain masked')
  t.notMatch(r.body, key, 'the key is not in the answer')
  t.equal(rootIdentityOfLine(String(messages[0])), identity, 'the coordinator reads the identity back')
})
