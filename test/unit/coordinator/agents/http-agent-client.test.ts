// The HTTPS AgentClient against the REAL agent API (real applier, real state dir, fakes only where
// systemd would be) over real mutual TLS on loopback; stand-in HTTPS servers for what a real
// agent never answers (bad answers, silence).
import t, { type Test } from 'tap'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { HttpAgentClient, readAgentTls, type HttpAgentClientOptions } from '../../../../coordinator/agents/http-agent-client.js'
import { AgentAnsweredError, AgentBadAnswerError, AgentUnreachableError, isAgentError } from '../../../../coordinator/agents/agent-call-errors.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import type { ChangeSpec } from '../../../../shared/change/schema.js'
import type { ApplyEvent } from '../../../../shared/schemas/apply.js'
import type { JournalEntry } from '../../../../shared/schemas/journal.js'
import { API_KEY, hsmSpec } from '../../../helpers/applier-fixture.js'
import { startRealAgent, type RealAgent } from '../../../helpers/real-agent.js'
import { LabCa } from '../../../lab/lab-ca.js'

const ca = await LabCa.create('keyroll agents CA')
const stranger = await LabCa.create('some other CA')
const serverCert = await ca.issue({ commonName: 'node1 agent', ips: ['127.0.0.1'], usage: ['server'] })
const coordinatorCert = await ca.issue({ commonName: 'keyroll-coordinator', usage: ['client'] })
const strangerCert = await stranger.issue({ commonName: 'node1 agent', ips: ['127.0.0.1'], usage: ['server', 'client'] })
const agentTls = { cert: serverCert.cert, key: serverCert.key, clientCa: ca.certPem }

function clientOf (t: Test, opts: Partial<HttpAgentClientOptions> = {}): HttpAgentClient {
  const c = new HttpAgentClient({ tls: { ca: ca.certPem, cert: coordinatorCert.cert, key: coordinatorCert.key }, ...opts })
  t.teardown(() => c.close())
  return c
}

function nodeAt (base: string, name = 'node1'): NodeRef {
  return { cluster: 'c1', name, agentUrl: base, minkms: '127.0.0.1:7373' }
}

async function agent (t: Test, heartbeatMs = 0): Promise<{ a: RealAgent, node: NodeRef }> {
  const a = await startRealAgent(t, { tls: agentTls, heartbeatMs })
  return { a, node: nodeAt(a.base) }
}

/** An HTTPS server with the agent's certificate that answers with `handler`. */
async function standIn (t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<NodeRef> {
  const server: Server = createServer({ cert: serverCert.cert, key: serverCert.key, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return nodeAt(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, 'fake1')
}

async function rejection (p: Promise<unknown>): Promise<Error> {
  return await p.then(() => { throw new Error('resolved, expected a rejection') }, (err: unknown) => err as Error)
}

const restarts = (a: RealAgent): number => a.service.calls.filter(c => c === 'restart').length
const spec = (revision: number): ChangeSpec => hsmSpec(revision) as ChangeSpec

t.test('status, readiness and plan of the real agent over mutual TLS', async t => {
  const { a, node } = await agent(t)
  const c = clientOf(t)
  const status = await c.status(node)
  t.match(status, { node: 'node1', appliedRevision: 0, desiredRevision: 0, applying: false, drift: [] })
  t.equal(typeof await c.ready(node), 'boolean')
  const plan = await c.plan(node, spec(1))
  t.match(plan, { revision: 1, changed: true })
  t.match(plan.files.find(f => f.name === 'config')?.diff, /\+\s+enclave: aistor-key-manager/)
  t.notOk(JSON.stringify(plan).includes(API_KEY.slice(3)), 'the diff masks the secret')
  t.notOk(a.lines.join('\n').includes(API_KEY.slice(3)), 'no secret in the agent log')
})

t.test('a path prefix in the agent URL is kept', async t => {
  const seen: string[] = []
  const node = await standIn(t, (req, res) => {
    seen.push(req.url ?? '')
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'AGT_NOT_FOUND', message: 'no route', statusCode: 404 }))
  })
  await rejection(clientOf(t).status({ ...node, agentUrl: `${node.agentUrl}/agents/n1/` }))
  t.same(seen, ['/agents/n1/v1/status'])
})

t.test('apply streams its progress to the result; rollback too', async t => {
  const { a, node } = await agent(t)
  const c = clientOf(t)
  const events: ApplyEvent[] = []
  const r = await c.apply(node, spec(1), { onEvent: e => events.push(e) })
  t.match(r, { result: 'changed', revision: 1, changed: true, restarted: true, verdict: { ok: true } })
  t.ok(events.some(e => e.step === 'write' && e.status === 'done'), 'progress arrived')
  t.ok(events.some(e => e.step === 'commit'), 'up to the commit')
  t.equal(restarts(a), 1)
  t.match(await c.status(node), { appliedRevision: 1 })

  await c.apply(node, { ...spec(2), files: { env: { unset: ['MINIO_KMS_VOLUME'] } } })
  t.equal(restarts(a), 2)
  const back = await c.rollback(node, { restart: 'never' })
  t.match(back, { result: 'changed', restarted: false })
  t.equal(restarts(a), 2, 'restart: never was passed on')
  t.notOk(a.lines.join('\n').includes(API_KEY.slice(3)), 'no secret in the agent log')
})

t.test("the agent's error codes come through as agentCode", async t => {
  const { node } = await agent(t)
  const c = clientOf(t)
  await c.apply(node, spec(2))
  const stale = await rejection(c.apply(node, spec(1)))
  t.ok(stale instanceof AgentAnsweredError)
  t.match(stale, { code: 'CRD_AGENT_ERROR', statusCode: 502, agentCode: 'AGT_STALE_REVISION', agentStatus: 409, node: 'node1' })
  t.ok(isAgentError(stale, 'AGT_STALE_REVISION'))
  t.notOk(isAgentError(stale, 'AGT_CHANGE_CONFLICT'))
  const conflict = await rejection(c.apply(node, { ...spec(2), restart: 'always' }))
  t.match(conflict, { agentCode: 'AGT_REVISION_CONFLICT' })
  const invalid = await rejection(c.plan(node, { revision: 3, files: { env: { set: { 'not a name': 'x' } } } } as unknown as ChangeSpec))
  t.match(invalid, { code: 'CRD_AGENT_ERROR', agentCode: 'SHR_CHANGE_INVALID', agentStatus: 400 })
  t.notOk(String(stale.message).includes(API_KEY.slice(3)))
})

t.test('journalCursor: the newest entry, or undefined for an empty journal', async t => {
  const { a, node } = await agent(t)
  const c = clientOf(t)
  t.equal(await c.journalCursor(node), undefined)
  const pushed = a.journal.push({ message: 'one' }, { message: 'two' }, { message: 'three' })
  t.equal(await c.journalCursor(node), pushed[2]?.cursor)
  t.match(a.journal.calls.at(-1), { method: 'read', opts: { limit: 1 } }, 'one entry read, not the journal')
})

t.test('journalTail: the newest N entries, oldest first', async t => {
  const { a, node } = await agent(t)
  const c = clientOf(t)
  t.same(await c.journalTail(node, { limit: 5 }), [])
  a.journal.push({ message: 'one' }, { message: 'two' }, { message: 'three' })
  t.same((await c.journalTail(node, { limit: 2 })).map(e => e.message), ['two', 'three'])
  t.match(a.journal.calls.at(-1), { method: 'read', opts: { limit: 2 } })
})

t.test('followJournal: entries after the cursor until aborted', async t => {
  const { a, node } = await agent(t, 50)
  const c = clientOf(t)
  const [old] = a.journal.push({ message: 'before the apply' })
  const seen: JournalEntry[] = []
  const ac = new AbortController()
  let wake: () => void = () => {}
  const following = c.followJournal(node, { after: old?.cursor ?? '', signal: ac.signal, onEntry: e => { seen.push(e); wake() } })
  const until = async (n: number): Promise<void> => { while (seen.length < n) await new Promise<void>(resolve => { wake = resolve }) }
  a.journal.push({ message: 'Starting', invocationId: 'b'.repeat(32) }, { message: '=> Server is up and running...', invocationId: 'b'.repeat(32) })
  await until(2)
  t.same(seen.map(e => e.message), ['Starting', '=> Server is up and running...'], 'only entries after the cursor, in order')
  t.equal(seen[1]?.invocationId, 'b'.repeat(32))
  ac.abort()
  await following
  await a.journal.followersClosed()
  t.equal(a.journal.activeFollowers, 0, "the agent's follower ended with the stream")
})

t.test('followJournal reopens a broken stream once, after the last cursor seen', async t => {
  const { a, node } = await agent(t, 50)
  const c = clientOf(t)
  const seen: string[] = []
  const ac = new AbortController()
  t.teardown(() => { ac.abort() })
  let wake: () => void = () => {}
  const until = async (n: number): Promise<void> => { while (seen.length < n) await new Promise<void>(resolve => { wake = resolve }) }
  // Until the agent runs the n-th follow of the test (the client reopened).
  const follows = async (n: number): Promise<void> => {
    while (a.journal.calls.filter(call => call.method === 'follow').length < n || a.journal.activeFollowers === 0) await new Promise(resolve => setImmediate(resolve))
  }
  const following = c.followJournal(node, { signal: ac.signal, onEntry: e => { seen.push(e.message); wake() } })
  a.journal.push({ message: 'a' })
  await until(1)
  a.journal.breakFollowers()
  await follows(2)
  a.journal.push({ message: 'b' })
  await until(2)
  t.same(seen, ['a', 'b'], 'nothing lost, nothing repeated')
  const opened = a.journal.calls.filter(call => call.method === 'follow')
  t.equal(opened.length, 2, 'reopened once')
  t.match(opened[1], { opts: { afterCursor: a.journal.entries[0]?.cursor } }, 'from the last cursor seen')

  a.journal.push({ message: 'c' })
  await until(3)
  // The reopened stream delivered 'c', so it earned one more reopen...
  a.journal.breakFollowers()
  await follows(3)
  // ...and that one breaks before delivering anything: the follow gives up.
  a.journal.breakFollowers()
  const err = await rejection(following)
  t.match(err, { code: 'CRD_AGENT_ERROR', agentCode: 'AGT_JOURNAL_FOLLOW_FAILED' }, 'a second break without an entry in between rejects')
  t.same(seen, ['a', 'b', 'c'])
})

t.test('bad answers: schema mismatch, wrong type, no result line, an error status without a body', async t => {
  const node = await standIn(t, (req, res) => {
    const json = (status: number, body: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }
    if (req.url === '/v1/status') return json(200, { node: 7 })
    const send = (status: number, type: string, text: string): void => { res.writeHead(status, { 'content-type': type }).end(text) }
    if (req.url === '/health/ready') send(200, 'text/html', '<html>ok</html>')
    else if (req.url === '/v1/plan') send(502, 'text/html', 'bad gateway')
    else if (req.url === '/v1/apply') send(200, 'application/x-ndjson', '{"step":"lock","status":"done","at":1}\n{}\n')
    else if (req.url === '/v1/rollback') send(200, 'application/x-ndjson', '{"step":"lock","status":"done","at":1}\nnot json\n')
    else if (req.url?.startsWith('/v1/journal') === true) send(200, 'application/x-ndjson', '{"what":"ever"}\n')
    else json(404, {})
  })
  const c = clientOf(t)
  const status = await rejection(c.status(node))
  t.ok(status instanceof AgentBadAnswerError)
  t.match(status, { code: 'CRD_AGENT_BAD_ANSWER', statusCode: 502, node: 'fake1', message: /the status does not match the agent API \(\/: must have required properties/ })
  t.match(await rejection(c.ready(node)), { code: 'CRD_AGENT_BAD_ANSWER', message: /text\/html/ })
  t.match(await rejection(c.plan(node, spec(1))), { code: 'CRD_AGENT_BAD_ANSWER', message: /HTTP 502 without an error body/ })
  const events: ApplyEvent[] = []
  t.match(await rejection(c.apply(node, spec(1), { onEvent: e => events.push(e) })), { code: 'CRD_AGENT_BAD_ANSWER', message: /ended without its result line/ })
  t.equal(events.length, 1, 'the events before were delivered')
  t.match(await rejection(c.rollback(node)), { code: 'CRD_AGENT_BAD_ANSWER', message: /line 2 of the stream is not JSON/ })
  t.match(await rejection(c.journalCursor(node)), { code: 'CRD_AGENT_BAD_ANSWER', message: /line 1 of the journal stream does not match/ })
  const ac = new AbortController()
  t.match(await rejection(c.followJournal(node, { signal: ac.signal, onEntry: () => {} })), { code: 'CRD_AGENT_BAD_ANSWER' }, 'a bad line is not a break: no reopen')
})

t.test('an error line ends an apply stream with the agent code', async t => {
  const node = await standIn(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.end('{"step":"write","status":"done","at":1}\n{"error":{"code":"SHR_INTERNAL","message":"internal error","statusCode":500}}\n')
  })
  t.match(await rejection(clientOf(t).apply(node, spec(1))), { code: 'CRD_AGENT_ERROR', agentCode: 'SHR_INTERNAL', agentStatus: 500 })
})

t.test('unreachable: nothing listening, a certificate from another CA, timeouts', async t => {
  const gone = await standIn(t, () => {})
  const c = clientOf(t)
  // A port that was just free: connection refused.
  const server = createServer({ cert: serverCert.cert, key: serverCert.key })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  const refused = await rejection(c.status(nodeAt(`https://127.0.0.1:${port}`)))
  t.ok(refused instanceof AgentUnreachableError)
  t.match(refused, { code: 'CRD_AGENT_UNREACHABLE', statusCode: 502, sent: false, message: /ECONNREFUSED/ })

  // The agent's certificate is not from the agents' CA.
  const impostor = await startRealAgent(t, { tls: { cert: strangerCert.cert, key: strangerCert.key, clientCa: ca.certPem } })
  t.match(await rejection(c.status(nodeAt(impostor.base))), { code: 'CRD_AGENT_UNREACHABLE', sent: false, message: /TLS: / })

  // The coordinator shows a certificate the agent does not trust.
  const real = await agent(t)
  const untrusted = new HttpAgentClient({ tls: { ca: ca.certPem, cert: strangerCert.cert, key: strangerCert.key } })
  t.teardown(() => untrusted.close())
  t.match(await rejection(untrusted.status(real.node)), { code: 'CRD_AGENT_UNREACHABLE' })

  // Headers that never come.
  const quick = clientOf(t, { requestTimeoutMs: 200, streamIdleMs: 200 })
  t.match(await rejection(quick.status(gone)), { code: 'CRD_AGENT_UNREACHABLE', sent: true, message: /UND_ERR_HEADERS_TIMEOUT/ })
})

t.test('a stream that goes quiet for longer than streamIdleMs is a lost agent', async t => {
  const node = await standIn(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.write('{"step":"lock","status":"done","at":1}\n')
  })
  const c = clientOf(t, { streamIdleMs: 300 })
  t.match(await rejection(c.apply(node, spec(1))), { code: 'CRD_AGENT_UNREACHABLE', sent: true, message: /UND_ERR_BODY_TIMEOUT/ })
})

t.test('heartbeats keep an idle stream alive past streamIdleMs', async t => {
  // 20 heartbeats 50 ms apart (about 1 s of an otherwise quiet stream, over three idle windows),
  // then one entry: it arrives only if the client kept the stream.
  const entry: JournalEntry = { cursor: 's=1;i=1', realtimeUs: 1, message: 'after the quiet' }
  let opened = 0
  const node = await standIn(t, (_req, res) => {
    opened++
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    let beats = 0
    const timer = setInterval(() => {
      if (++beats <= 20) { res.write('{}\n'); return }
      clearInterval(timer)
      res.write(JSON.stringify(entry) + '\n')
    }, 50)
    res.once('close', () => { clearInterval(timer) })
  })
  const c = clientOf(t, { streamIdleMs: 300 })
  const ac = new AbortController()
  const got = await new Promise<JournalEntry>((resolve, reject) => {
    c.followJournal(node, { signal: ac.signal, onEntry: resolve }).catch(reject)
  })
  ac.abort()
  t.same(got, entry)
  t.equal(opened, 1, 'never reopened: the heartbeats kept it alive')
})

t.test('aborting an apply rejects with the reason; the agent finishes by itself', async t => {
  const node = await standIn(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.write('{"step":"write","status":"done","at":1}\n')
  })
  const ac = new AbortController()
  const p = clientOf(t).apply(node, spec(1), { signal: ac.signal, onEvent: () => { ac.abort(new Error('operator abort')) } })
  t.match(await rejection(p), { message: 'operator abort' })
})

t.test('readAgentTls reads the config files', async t => {
  const dir = t.testdir({ 'ca.pem': ca.certPem, 'c.pem': coordinatorCert.cert, 'c.key': coordinatorCert.key })
  const tls = await readAgentTls({ ca: `${dir}/ca.pem`, cert: `${dir}/c.pem`, key: `${dir}/c.key` })
  t.equal(tls.ca.toString(), ca.certPem)
  const { node } = await agent(t)
  const c = new HttpAgentClient({ tls })
  t.teardown(() => c.close())
  t.match(await c.status(node), { node: 'node1' })
})

t.test('preflightExternalKms: the key goes as { $secret }; an answer outside the schema is a bad answer', async t => {
  const bodies: unknown[] = []
  const answer = { node: 'fake1', ok: true, reachable: 1, trust: { source: 'system' }, servers: [{ server: 'kms0:7373', ok: true, checks: { tls: { status: 'ok' }, auth: { status: 'ok' }, roundTrip: { status: 'ok' } }, ms: 3 }] }
  let extra: Record<string, unknown> = {}
  const node = await standIn(t, (req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => { text += c.toString() })
    req.on('end', () => {
      bodies.push(JSON.parse(text))
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...answer, ...extra }))
    })
  })
  const c = clientOf(t)
  const req = { servers: ['kms0:7373'], enclave: 'e', key: 'k', apiKey: API_KEY }
  t.same(await c.preflightExternalKms(node, req), answer)
  t.same(bodies, [{ ...req, apiKey: { $secret: API_KEY } }], 'a plain key is sent as a secret')
  extra = { apiKey: API_KEY }
  const err = await rejection(c.preflightExternalKms(node, { ...req, apiKey: { $secret: API_KEY } }))
  t.match(err, { code: 'CRD_AGENT_BAD_ANSWER', message: /the preflight does not match the agent API/ })
  t.notMatch(err.message, API_KEY.slice(3), 'the message does not quote the answer')
})

t.test('rootApiKey: the real agent\'s banner key over mutual TLS, as a Secret; a lying answer is a bad answer', async t => {
  const { generateApiKey } = await import('../../../../shared/minkms/keys.js')
  const root = generateApiKey('k1')
  const { a, node } = await agent(t)
  const c = clientOf(t)
  const notYet = await rejection(c.rootApiKey(node))
  t.ok(isAgentError(notYet, 'AGT_ROOT_KEY_NOT_LOGGED'), 'no banner yet: the agent\'s 404 with its code')
  const run = a.service.startRun()
  a.journal.push({ message: 'Starting server instance...', invocationId: run }, { message: `API Key        ${root.key}`, invocationId: run })
  const got = await c.rootApiKey(node)
  t.equal(got.invocationId, run)
  t.equal(got.identity, root.identity)
  t.ok(got.apiKey.equals(root.key), 'the key')
  t.equal(JSON.stringify(got), JSON.stringify({ invocationId: run, identity: root.identity, apiKey: '***' }), 'a Secret in every string form')
  t.notOk(a.lines.join('\n').includes(root.key.slice(3)), 'not in the agent log')

  const other = generateApiKey('k1')
  const liar = await standIn(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ invocationId: 'x', identity: other.identity, apiKey: { $secret: root.key } }))
  })
  const err = await rejection(c.rootApiKey(liar))
  t.match(err, { code: 'CRD_AGENT_BAD_ANSWER', message: new RegExp(`identity ${root.identity}, not the ${other.identity}`) })
  t.notMatch(err.message, root.key.slice(3))
  const bogus = await standIn(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ invocationId: 'x', identity: other.identity, apiKey: { $secret: 'k1:' + 'A'.repeat(40) } }))
  })
  t.match(await rejection(c.rootApiKey(bogus)), { code: 'CRD_AGENT_BAD_ANSWER', message: /not a valid k1:\/k2: API key/ })
})

t.test('staging against the real agent: stage, status, commitStaged streams to the result, discardStaged', async t => {
  const { a, node } = await agent(t)
  const c = clientOf(t)
  const s = await c.stage(node, spec(1))
  t.match(s, { revision: 1, plan: { changed: true, restart: true } })
  t.match(s.changeHash, /^[0-9a-f]{64}$/)
  t.equal(restarts(a), 0, 'staging restarts nothing')
  t.match((await c.status(node)).staged, { revision: 1, stagedAt: s.stagedAt, expiresAt: s.expiresAt })
  const events: ApplyEvent[] = []
  const r = await c.commitStaged(node, 1, { onEvent: e => events.push(e) })
  t.match(r, { result: 'changed', revision: 1, restarted: true, verdict: { ok: true } })
  t.ok(events.some(e => e.step === 'write' && e.status === 'done'), 'progress arrived')
  t.equal(restarts(a), 1)
  t.equal((await c.status(node)).staged, undefined)

  t.equal(await c.discardStaged(node), undefined, 'nothing staged')
  await c.stage(node, { ...spec(2), files: { env: { unset: ['MINIO_KMS_VOLUME'] } } })
  t.equal(await c.discardStaged(node), 2)
  t.notOk(a.lines.join('\n').includes(API_KEY.slice(3)), 'no secret in the agent log')
})

t.test('staging refusals come through as agent codes: not staged, stale, stale revision', async t => {
  const { a, node } = await agent(t)
  const c = clientOf(t)
  t.match(await rejection(c.commitStaged(node, 1)), { code: 'CRD_AGENT_ERROR', agentCode: 'AGT_NOT_STAGED', agentStatus: 409 })
  await c.stage(node, spec(1))
  const { writeFile } = await import('node:fs/promises')
  await writeFile(a.files.env, '# edited\nMINIO_KMS_VOLUME=/x\n')
  const stale = await rejection(c.commitStaged(node, 1))
  t.match(stale, { agentCode: 'AGT_STAGED_STALE', agentStatus: 409 })
  t.ok(isAgentError(stale, 'AGT_STAGED_STALE'))
  t.equal(restarts(a), 0)
  await c.apply(node, spec(3))
  t.match(await rejection(c.stage(node, spec(2))), { agentCode: 'AGT_STALE_REVISION' })
})

t.test('staging: answers outside the schema are bad answers', async t => {
  const node = await standIn(t, (req, res) => {
    const json = (status: number, body: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }
    if (req.url === '/v1/stage' && req.method === 'POST') return json(200, { revision: 1, changeHash: 'x', stagedAt: 1 })
    if (req.url === '/v1/stage' && req.method === 'DELETE') return json(200, { discarded: 'one' })
    if (req.url === '/v1/stage/commit') { res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"step":"lock","status":"done","at":1}\n'); return }
    json(404, {})
  })
  const c = clientOf(t)
  t.match(await rejection(c.stage(node, spec(1))), { code: 'CRD_AGENT_BAD_ANSWER', message: /the staged change does not match the agent API/ })
  t.match(await rejection(c.discardStaged(node)), { code: 'CRD_AGENT_BAD_ANSWER', message: /the discard does not match/ })
  t.match(await rejection(c.commitStaged(node, 1)), { code: 'CRD_AGENT_BAD_ANSWER', message: /ended without its result line/ })
})

t.test('idleConnectionMs closes an idle connection early (the health views); the default keeps it', async t => {
  const sockets: Socket[] = []
  const node = await standIn(t, (req, res) => {
    if (!sockets.includes(req.socket)) sockets.push(req.socket)
    res.writeHead(200, { 'content-type': 'application/json' })
    const check = { ok: true, message: 'ok' }
    res.end(JSON.stringify({ ok: true, checks: { config: check, unit: check, journal: check } }))
  })
  const kept = clientOf(t)
  const short = clientOf(t, { idleConnectionMs: 50 })
  t.equal(await kept.ready(node), true)
  t.equal(await short.ready(node), true)
  t.equal(sockets.length, 2, 'one connection per client')
  const [keptSocket, shortSocket] = sockets
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('the short-idle connection was still open after 2 s')) }, 2000)
    if (shortSocket?.destroyed === true) { clearTimeout(timer); resolve(); return }
    shortSocket?.once('close', () => { clearTimeout(timer); resolve() })
  })
  t.notOk(keptSocket?.destroyed, 'the default client still keeps its connection (4 s)')
})
