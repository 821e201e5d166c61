// The in-memory AgentClient behaves like a node: revisions, lock, runs and a journal that the
// coordinator's own journal reading judges the way it would judge a real node's.
import t, { type Test } from 'tap'
import { FakeAgentClient } from '../../../../coordinator/agents/fake-agent-client.js'
import { isAgentError } from '../../../../coordinator/agents/agent-call-errors.js'
import { readJournal } from '../../../../coordinator/gate/journal-reading.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import type { ChangeSpec } from '../../../../shared/change/schema.js'
import type { ApplyEvent } from '../../../../shared/schemas/apply.js'
import type { JournalEntry } from '../../../../shared/schemas/journal.js'
import { FakeClock } from '../../../helpers/fake-clock.js'

const n1: NodeRef = { cluster: 'c1', name: 'node1', agentUrl: 'https://10.0.0.11:7480', minkms: '10.0.0.11:7373' }
const n2: NodeRef = { ...n1, name: 'node2', agentUrl: 'https://10.0.0.12:7480', minkms: '10.0.0.12:7373' }
const change = (revision: number, extra: Partial<ChangeSpec> = {}): ChangeSpec => ({ revision, files: { env: { set: { MINIO_KMS_VOLUME: `/v${revision}` } } }, ...extra })

function fake (t: Test): FakeAgentClient {
  const f = new FakeAgentClient(new FakeClock()).addNode(n1, { revision: 3, invocationId: 'a'.repeat(32) }).addNode(n2)
  t.teardown(() => { f.assertNoPendingScripts() })
  return f
}

/** What the engine does for one node step: run and cursor before, follow, apply, the journal since. */
async function step (f: FakeAgentClient, node: NodeRef, c: ChangeSpec): Promise<{ result: Awaited<ReturnType<FakeAgentClient['apply']>>, entries: JournalEntry[], before: string }> {
  const before = (await f.status(node)).unit.status?.invocationId ?? ''
  const cursor = await f.journalCursor(node)
  const entries: JournalEntry[] = []
  const ac = new AbortController()
  const following = f.followJournal(node, { ...(cursor === undefined ? {} : { after: cursor }), signal: ac.signal, onEntry: e => entries.push(e) })
  const result = await f.apply(node, c)
  // The follower delivers everything logged so far before it waits again.
  while (entries.at(-1)?.cursor !== f.node(node).journal.at(-1)?.cursor) await new Promise(resolve => setImmediate(resolve))
  ac.abort()
  await following
  return { result, entries, before }
}

t.test('an apply restarts into a new run that logs the ready line; the journal reading agrees', async t => {
  const f = fake(t)
  const events: ApplyEvent[] = []
  const before = await f.status(n1)
  t.match(before, { node: 'node1', appliedRevision: 3, applying: false, unit: { status: { invocationId: 'a'.repeat(32) } } })
  const { result, entries, before: inv } = await step(f, n1, change(4))
  t.match(result, { result: 'changed', revision: 4, restarted: true, verdict: { ok: true } })
  t.not(result.verdict?.invocationId, inv)
  t.equal(f.node(n1).invocationId, result.verdict?.invocationId)
  t.match(readJournal({ before: inv, entries, agent: result }), { ok: true, invocationId: result.verdict?.invocationId })
  t.match(await f.status(n1), { appliedRevision: 4, desiredRevision: 4, lastResult: { result: 'changed' } })
  const eventsRun = await f.apply(n1, change(5), { onEvent: e => events.push(e) })
  t.equal(eventsRun.revision, 5)
  t.same(events.map(e => e.step), ['lock', 'plan', 'backup', 'validate', 'write', 'restart', 'verify', 'commit'])
  t.equal(f.node(n1).restarts, 2)
})

t.test('revisions: a replay is ok without a restart, older is stale, other content conflicts', async t => {
  const f = fake(t)
  await f.apply(n1, change(4))
  t.match(await f.apply(n1, change(4)), { result: 'ok', changed: false, restarted: false })
  t.ok(isAgentError(await f.apply(n1, change(2)).catch((e: unknown) => e), 'AGT_STALE_REVISION'))
  t.ok(isAgentError(await f.apply(n1, change(4, { restart: 'always' })).catch((e: unknown) => e), 'AGT_REVISION_CONFLICT'))
  t.equal(f.node(n1).restarts, 1)
})

t.test('the lock: a second apply while one is held is AGT_CHANGE_CONFLICT', async t => {
  const f = fake(t)
  let release: () => void = () => {}
  f.script(n1, 'apply', { outcome: 'ok', hold: new Promise<void>(resolve => { release = resolve }) })
  const first = f.apply(n1, change(4))
  await new Promise(resolve => setImmediate(resolve))
  t.equal(f.node(n1).locked, true)
  t.match(await f.status(n1), { applying: true })
  t.ok(isAgentError(await f.apply(n1, change(5)).catch((e: unknown) => e), 'AGT_CHANGE_CONFLICT'))
  release()
  t.match(await first, { result: 'changed' })
  t.equal(f.node(n1).locked, false)
})

t.test('rolled back: the node stays on its revision, the journal shows the fatal run then a restored one', async t => {
  const f = fake(t)
  f.script(n1, 'apply', { outcome: 'rolled-back' })
  const { result, entries, before } = await step(f, n1, change(4))
  t.match(result, { result: 'rolled-back', revision: 3, failedStep: 'verify', verdict: { ok: false }, rollbackVerdict: { ok: true } })
  t.match(await f.status(n1), { appliedRevision: 3, desiredRevision: 3 })
  const reading = readJournal({ before, entries, agent: result })
  t.equal(reading.ok, false)
  t.match(reading.fatal, { message: /FATAL/ })
  t.equal(f.node(n1).restarts, 2, 'the failed run and the restored one')
})

t.test('a verdict the journal contradicts: ok, but a fatal line after the ready line, or no ready line', async t => {
  const f = fake(t)
  f.script(n1, 'apply', { outcome: 'fatal-after-ready' })
  f.script(n2, 'apply', { outcome: 'no-ready-line' })
  for (const [node, why] of [[n1, /logged a fatal line/], [n2, /has not logged the ready line/]] as const) {
    const { result, entries, before } = await step(f, node, change(4))
    t.equal(result.verdict?.ok, true, 'the agent says ok')
    t.match(readJournal({ before, entries, agent: result }), { ok: false, message: why })
  }
})

t.test('rollback to the previous committed revision', async t => {
  const f = fake(t)
  t.ok(isAgentError(await f.rollback(n2).catch((e: unknown) => e), 'AGT_NOTHING_TO_ROLL_BACK'))
  await f.apply(n1, change(4))
  t.match(await f.rollback(n1, { restart: 'never' }), { result: 'changed', revision: 3, restarted: false })
  t.match(await f.status(n1), { appliedRevision: 3 })
})

t.test('scripted failures: unreachable, agent errors, bad answers, readiness', async t => {
  const f = fake(t)
  f.script(n1, 'status', { fail: 'unreachable' }, { times: 2 })
  f.script(n1, 'plan', { fail: 'agent-error', code: 'SHR_CHANGE_INVALID', statusCode: 400 })
  f.script(n1, 'journalCursor', { fail: 'bad-answer' })
  f.script(n1, 'ready', { ready: false })
  f.script(n2, 'apply', { fail: 'unreachable', sent: true })
  await t.rejects(f.status(n1), { code: 'CRD_AGENT_UNREACHABLE', sent: false })
  await t.rejects(f.status(n1), { code: 'CRD_AGENT_UNREACHABLE' })
  t.match(await f.status(n1), { node: 'node1' }, 'then it answers again')
  await t.rejects(f.plan(n1, change(4)), { code: 'CRD_AGENT_ERROR', agentCode: 'SHR_CHANGE_INVALID', agentStatus: 400 })
  await t.rejects(f.journalCursor(n1), { code: 'CRD_AGENT_BAD_ANSWER' })
  t.equal(await f.ready(n1), false)
  t.equal(await f.ready(n1), true)
  await t.rejects(f.apply(n2, change(1)), { code: 'CRD_AGENT_UNREACHABLE', sent: true })
  t.equal(f.node(n2).applied, 0, 'nothing applied')
  t.same(f.calls.filter(c => c.node === 'node2'), [{ node: 'node2', op: 'apply', revision: 1 }])
})

t.test('a script never used fails the test that set it up', async t => {
  const f = new FakeAgentClient(new FakeClock()).addNode(n1)
  f.script(n1, 'apply', { outcome: 'rolled-back' })
  f.script(n1, 'status', { fail: 'unreachable' }, { times: 2 })
  await t.rejects(f.status(n1))
  t.throws(() => { f.assertNoPendingScripts() }, /2 scripted answer\(s\) never used:\n {2}node1 apply outcome rolled-back: used 0, 1 more expected\n {2}node1 status fail unreachable: used 1, 1 more expected/)
  t.throws(() => f.node({ ...n1, name: 'nope' }), /no node c1\/nope/)
})

t.test('followJournal streams what is logged later, until aborted; an unknown cursor is refused', async t => {
  const f = fake(t)
  const seen: string[] = []
  const ac = new AbortController()
  let wake: () => void = () => {}
  const following = f.followJournal(n1, { signal: ac.signal, onEntry: e => { seen.push(e.message); wake() } })
  f.log(n1, 'hello', { message: 'from elsewhere', invocationId: 'c'.repeat(32) })
  while (seen.length < 2) await new Promise<void>(resolve => { wake = resolve })
  t.same(seen, ['hello', 'from elsewhere'])
  ac.abort()
  await following
  t.match(await f.followJournal(n1, { after: 's=0;i=999', signal: new AbortController().signal, onEntry: () => {} }).catch((e: unknown) => e), { agentCode: 'AGT_JOURNAL_FOLLOW_FAILED' })
})

t.test('preflightExternalKms: every server passes unless scripted; failures as scripted', async t => {
  const f = fake(t)
  const req = { servers: ['kms0:7373', 'kms1:7373'], enclave: 'e', key: 'k', apiKey: { $secret: 'k1:x' } }
  t.match(await f.preflightExternalKms(n1, req), { node: 'node1', ok: true, reachable: 2 })
  f.script(n1, 'preflightExternalKms', { preflight: { 'kms1:7373': 'unreachable: connect ECONNREFUSED' } })
  const r = await f.preflightExternalKms(n1, req)
  t.match(r, { ok: false, reachable: 1, servers: [{ server: 'kms0:7373', ok: true }, { server: 'kms1:7373', ok: false, checks: { tls: { status: 'failed', reason: 'unreachable: connect ECONNREFUSED' }, auth: { status: 'skipped' } } }] })
  f.script(n2, 'preflightExternalKms', { fail: 'unreachable' })
  await t.rejects(f.preflightExternalKms(n2, req), { code: 'CRD_AGENT_UNREACHABLE' })
  t.same(f.calls.filter(c => c.op === 'preflightExternalKms').map(c => c.node), ['node1', 'node1', 'node2'])
})

t.test('staging: a staged change commits like an apply; not staged, other revision, stale or after an agent restart is refused', async t => {
  const f = fake(t)
  const staged = await f.stage(n1, change(4))
  t.equal(staged.revision, 4)
  t.equal(f.staged(n1), 4)
  t.equal(f.node(n1).applied, 3, 'staging writes nothing')
  const code = async (p: Promise<unknown>): Promise<string | undefined> => await p.then(() => undefined, (err: unknown) => isAgentError(err) ? err.agentCode : String(err))
  t.equal(await code(f.commitStaged(n1, 5)), 'AGT_NOT_STAGED', 'another revision')
  const r = await f.commitStaged(n1, 4)
  t.equal(r.result, 'changed')
  t.equal(f.node(n1).applied, 4)
  t.equal(f.staged(n1), undefined, 'consumed')
  t.equal(await code(f.commitStaged(n1, 4)), 'AGT_NOT_STAGED', 'consumed: nothing staged')
  t.equal(await code(f.stage(n1, change(2))), 'AGT_STALE_REVISION')

  await f.stage(n1, change(5))
  f.drift(n1)
  t.equal(await code(f.commitStaged(n1, 5)), 'AGT_STAGED_STALE')
  t.equal(f.staged(n1), undefined, 'a stale staged change is dropped')

  await f.stage(n1, change(5))
  f.restartAgent(n1)
  t.equal(await code(f.commitStaged(n1, 5)), 'AGT_NOT_STAGED', 'memory only')

  await f.stage(n1, change(5))
  t.equal(await f.discardStaged(n1), 5)
  t.equal(await f.discardStaged(n1), undefined)
  t.same(f.calls.filter(c => c.op === 'commitStaged').map(c => c.revision), [5, 4, 4, 5, 5])
})

t.test('rootApiKey: the current run\'s banner key (journal calls serve it safe), else the set one, else 404', async t => {
  const { generateApiKey } = await import('../../../../shared/minkms/keys.js')
  const first = generateApiKey('k1')
  const second = generateApiKey('k1')
  const f = fake(t)
  const notYet = await f.rootApiKey(n1).then(() => undefined, (e: unknown) => e)
  t.ok(isAgentError(notYet, 'AGT_ROOT_KEY_NOT_LOGGED'))
  f.rootKeys.set('node1', first.key)
  t.equal((await f.rootApiKey(n1)).identity, first.identity, 'the set key when no banner names one')
  f.runLines.set('node1', () => [`API Key        ${second.key}`])
  await f.apply(n1, change(4))
  const got = await f.rootApiKey(n1)
  t.equal(got.identity, second.identity, 'the new run\'s banner wins')
  t.ok(got.apiKey.equals(second.key))
  t.equal(got.invocationId, f.node(n1).invocationId)
  const tail = await f.journalTail(n1, { limit: 100 })
  t.notMatch(JSON.stringify(tail), second.key.slice(3), 'the journal is served with the key in its safe form')
  t.match(JSON.stringify(tail), `k1:*** (${second.identity})`)
  f.script(n1, 'rootApiKey', { fail: 'unreachable' })
  t.match(await f.rootApiKey(n1).then(() => undefined, (e: unknown) => e), { code: 'CRD_AGENT_UNREACHABLE' })
})
