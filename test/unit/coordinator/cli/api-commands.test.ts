// The keyroll client commands against a TLS stand-in of the coordinator: what each sends (path,
// query, body, content type, bearer token), what it prints (human and --json: one document) and
// its exit code; the token never appears in any output.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cli, standIn, TOKEN, type Run, type StandIn } from './stand-in.js'
import { cluster, node, plan, rollout } from './fixtures.js'

// The hints name the command as `keyroll` unless run under npx (cli-name.ts): pinned, whatever runs these tests.
delete process.env.npm_command

const SPEC_YAML = 'revision: 4\nfiles:\n  config:\n    set:\n      log: debug\n      admin.key: !secret k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw\n'

async function run (t: { not: (a: unknown, b: unknown, m: string) => void, notMatch: (a: string, re: RegExp, m: string) => void }, s: StandIn, argv: string[]): Promise<Run> {
  const r = await cli(argv, { env: s.env })
  t.notMatch(r.stdout + r.stderr, new RegExp(TOKEN.slice(4)), 'the token is not in the output')
  return r
}

async function specFile (s: StandIn, name = 'change.yaml', text = SPEC_YAML): Promise<string> {
  const p = join(s.dir, name)
  await writeFile(p, text)
  return p
}

t.test('clusters and nodes: tables for humans, one JSON document with --json, the bearer token sent', async t => {
  const s = await standIn(t)
  s.app.get('/v1/clusters', async () => [cluster()])
  s.app.get('/v1/nodes', async () => [{ ...node('node1'), ageMs: 1200 }, { ...node('node2', false), ageMs: 7400 }])
  await s.start()

  const human = await run(t, s, ['clusters'])
  t.equal(human.code, 0)
  t.match(human.stdout, /prod\s+UNHEALTHY \(node2: agent unreachable: connect ECONNREFUSED\)\s+1\/2 healthy/)
  const json = await run(t, s, ['clusters', '--json'])
  t.same(JSON.parse(json.stdout), [cluster()], 'exactly the answer, as one document')

  const nodes = await run(t, s, ['nodes', '--cluster', 'prod'])
  t.equal(nodes.code, 0)
  t.match(nodes.stdout, /node1\s+healthy\s+active\/running\s+ready\s+no\s+3\s+1s/)
  t.match(nodes.stdout, /node2\s+UNHEALTHY: agent unreachable.*\s7s\n/)
  t.match(nodes.stdout, /rows older than a few seconds are being refreshed: ask again/, 'a 7 s old row is said to be refreshed')
  t.equal(s.calls.at(-1)?.url, '/v1/nodes?cluster=prod')
  t.ok(s.calls.every(c => c.authorization === `Bearer ${TOKEN}`), 'every request carries the token')
})

t.test('plan: the YAML spec sent as application/yaml with ?cluster=, diffs, the hash and the next command printed', async t => {
  const s = await standIn(t)
  s.app.post('/v1/plans', async () => plan())
  await s.start()
  const file = await specFile(s)
  const r = await run(t, s, ['plan', '-f', file, '--cluster', 'prod'])
  t.equal(r.code, 0, r.stderr)
  const call = s.calls.at(-1)
  t.equal(call?.url, '/v1/plans?cluster=prod')
  t.match(call?.contentType, /^application\/yaml/)
  t.equal(call?.body, SPEC_YAML, 'the file as written')
  t.match(r.stdout, /changed: \[node1\] revision 3 -> 4 \(would restart minkms\)/)
  t.match(r.stdout, /\+log: debug/)
  t.match(r.stdout, /plan hash: sha256-5f1c0ffee/)
  t.match(r.stdout, `keyroll rollout start -f ${file} --cluster prod --plan-hash sha256-5f1c0ffee`)

  const json = await run(t, s, ['plan', '-f', file, '--cluster', 'prod', '--json'])
  const doc = JSON.parse(json.stdout) as { planHash: string, nodes: unknown[] }
  t.equal(doc.planHash, 'sha256-5f1c0ffee')
  t.equal(doc.nodes.length, 2)

  const jsonFile = await specFile(s, 'change.json', JSON.stringify({ revision: 4, files: { config: { set: { log: 'debug' } } } }))
  t.equal((await run(t, s, ['plan', '-f', jsonFile, '--cluster', 'prod'])).code, 0)
  t.same(s.calls.at(-1)?.body, { cluster: 'prod', change: { revision: 4, files: { config: { set: { log: 'debug' } } } } }, 'a .json spec goes as { cluster, change }')
  t.match(s.calls.at(-1)?.contentType, /^application\/json/)
})

t.test('plan: a spec that is not a change is refused with its lines before anything is sent (exit 2)', async t => {
  const s = await standIn(t)
  await s.start()
  const r = await run(t, s, ['plan', '-f', await specFile(s, 'bad.yaml', 'revision: 0\nfiles: {}\nextra: 1\n'), '--cluster', 'prod'])
  t.equal(r.code, 2)
  t.match(r.stderr, /SHR_CHANGE_INVALID/)
  t.match(r.stderr, /line 3/)
  const missing = await run(t, s, ['plan', '-f', join(s.dir, 'nope.yaml'), '--cluster', 'prod'])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /CRD_CLI_FILE_UNREADABLE: cannot read the change spec .*nope\.yaml: no such file/)
  t.equal(s.calls.length, 0, 'nothing reached the coordinator')
})

t.test('rollout start: { cluster, change, planHash, strategy } as JSON; --json prints the Rollout', async t => {
  const s = await standIn(t)
  s.app.post('/v1/rollouts', async (_req, reply) => await reply.code(201).send(rollout('pending')))
  await s.start()
  const file = await specFile(s)
  const r = await run(t, s, ['rollout', 'start', '-f', file, '--cluster', 'prod', '--plan-hash', 'sha256-5f1c0ffee', '--max-parallel', '2', '--canary', '--auto-revert', '--healthy-deadline', '90s', '--on-unhealthy', 'pause', '--json'])
  t.equal(r.code, 0, r.stderr)
  t.same(s.calls.at(-1)?.body, {
    cluster: 'prod',
    change: { revision: 4, files: { config: { set: { log: 'debug', 'admin.key': { $secret: 'k1:xZnpcYtPdVMNLBBRaUO5HPEoK_jVrcc3MWR8BshkjJw' } } } } },
    planHash: 'sha256-5f1c0ffee',
    strategy: { maxParallel: 2, canary: true, healthyDeadline: '90s', autoRevert: true, onUnhealthy: 'pause' }
  }, 'the spec as written (secret marked, not defaulted) and only the strategy flags given')
  t.equal((JSON.parse(r.stdout) as { id: string }).id, 'r-42')

  const human = await run(t, s, ['rollout', 'start', '-f', file, '--cluster', 'prod', '--plan-hash', 'h'])
  t.match(human.stdout, /started rollout r-42 on cluster prod \(2 nodes, revision 4\)\nfollow it with: keyroll rollout watch r-42/)
  t.notOk((s.calls.at(-1)?.body as { strategy?: unknown }).strategy, 'no strategy without flags')

  for (const bad of [['--max-parallel', '0'], ['--max-parallel', 'two'], ['--failure-budget', '-1'], ['--healthy-deadline', 'soon']]) {
    const b = await run(t, s, ['rollout', 'start', '-f', file, '--cluster', 'prod', '--plan-hash', 'h', ...bad])
    t.equal(b.code, 2, bad.join(' '))
    t.match(b.stderr, new RegExp(`CRD_CLI_USAGE: ${bad[0] ?? ''}`))
  }
})

t.test('4xx answers exit 2 with the server\'s code, message and problems; 5xx and 401 say what to check', async t => {
  const s = await standIn(t)
  let answer: { status: number, body: unknown } = { status: 409, body: { code: 'CRD_PLAN_HASH_MISMATCH', message: 'the plan hash does not match; plan again', statusCode: 409 } }
  s.app.post('/v1/rollouts', async (_req, reply) => await reply.code(answer.status).send(answer.body))
  s.app.get('/v1/rollouts/:id', async (_req, reply) => await reply.code(404).send({ code: 'CRD_NOT_FOUND', message: 'no such rollout r-x', statusCode: 404 }))
  await s.start()
  const start = async (): Promise<Run> => await run(t, s, ['rollout', 'start', '-f', await specFile(s), '--cluster', 'prod', '--plan-hash', 'h'])

  let r = await start()
  t.equal(r.code, 2)
  t.match(r.stderr, 'error: CRD_PLAN_HASH_MISMATCH: the plan hash does not match; plan again')

  answer = { status: 400, body: { code: 'SHR_VALIDATION', message: 'invalid request', statusCode: 400, problems: [{ path: 'body.strategy.maxParallel', message: 'must be <= 64' }] } }
  r = await start()
  t.equal(r.code, 2)
  t.match(r.stderr, /SHR_VALIDATION: invalid request\n {2}body\.strategy\.maxParallel: must be <= 64/)

  answer = { status: 401, body: { code: 'CRD_UNAUTHENTICATED', message: 'unknown token', statusCode: 401 } }
  r = await start()
  t.equal(r.code, 2)
  t.match(r.stderr, /CRD_UNAUTHENTICATED: unknown token \(check the token in KEYROLL_TOKEN_FILE/)

  answer = { status: 403, body: { code: 'CRD_FORBIDDEN', message: 'viewer tokens may not start rollouts', statusCode: 403 } }
  r = await start()
  t.equal(r.code, 2)
  t.match(r.stderr, /needs an operator token/)

  answer = { status: 500, body: { code: 'SHR_INTERNAL', message: 'internal error (request req-1); the server log has the details', statusCode: 500 } }
  r = await start()
  t.equal(r.code, 1)
  t.match(r.stderr, /SHR_INTERNAL: .*the coordinator's log has the details \(HTTP 500\)/)

  answer = { status: 502, body: '<html>bad gateway</html>' }
  r = await start()
  t.equal(r.code, 1)
  t.match(r.stderr, /CRD_CLI_BAD_ANSWER/)

  r = await run(t, s, ['rollout', 'status', 'r-x'])
  t.equal(r.code, 2)
  t.match(r.stderr, 'CRD_NOT_FOUND: no such rollout r-x')
})

t.test('status, list, the steering commands and audit: paths, queries, output', async t => {
  const s = await standIn(t)
  s.app.get('/v1/rollouts/:id', async () => rollout('failed', [{ node: 'node1', state: 'done', startedAt: 0, finishedAt: 4000 }, {
    node: 'node2',
    state: 'failed',
    verdict: { ok: false, reason: 'fatal-line', summary: 'a fatal line', lines: [{ at: 0, kind: 'fatal', message: 'FATAL: no HSM' }] } as never
  }], 'node2 failed its verdict; halted'))
  s.app.get('/v1/rollouts', async () => [rollout('running')])
  for (const a of ['pause', 'resume', 'abort', 'promote', 'rollback']) s.app.post(`/v1/rollouts/:id/${a}`, async () => rollout('paused'))
  s.app.get('/v1/audit', async () => ({ entries: [{ seq: 3, at: 0, actor: 'alice', action: 'rollout.create', target: 'r-42', planHash: 'h', detail: {}, prevHash: '0', hash: '1' }] }))
  await s.start()

  const st = await run(t, s, ['rollout', 'status', 'r-42'])
  t.equal(st.code, 0)
  t.match(st.stdout, /rollout r-42 on cluster prod: failed/)
  t.match(st.stdout, /node1\s+done in 4\.0 s/)
  t.match(st.stdout, /node2\s+failed\n\s+verdict: a fatal line\n\s+fatal: FATAL: no HSM/)
  t.match(st.stdout, /node2 failed its verdict; halted/)
  t.match(st.stdout, /next: node1 stays on revision 4; keyroll rollout rollback r-42 returns it to the previous revision, or a new rollout completes the others/, 'the next step of a halted rollout')
  const paused = await run(t, s, ['rollout', 'pause', 'r-42'])
  t.match(paused.stdout, /next: keyroll rollout resume r-42 goes on/, 'and of a paused one')

  const list = await run(t, s, ['rollout', 'list', '--cluster', 'prod', '--json'])
  t.equal(s.calls.at(-1)?.url, '/v1/rollouts?cluster=prod')
  t.equal((JSON.parse(list.stdout) as unknown[]).length, 1)

  for (const a of ['pause', 'resume', 'abort', 'promote', 'rollback']) {
    const r = await run(t, s, ['rollout', a, 'r/42', '--json'])
    t.equal(r.code, 0)
    t.same(s.calls.at(-1)?.method, 'POST')
    t.equal(s.calls.at(-1)?.url, `/v1/rollouts/r%2F42/${a}`, `${a}: the id is one path segment`)
    t.equal((JSON.parse(r.stdout) as { state: string }).state, 'paused')
  }

  const audit = await run(t, s, ['audit', '--from', '3'])
  t.equal(audit.code, 0)
  t.equal(s.calls.at(-1)?.url, '/v1/audit?from=3')
  t.match(audit.stdout, /#3 1970-01-01T00:00:00\.000Z alice rollout\.create r-42 plan h/)
  t.equal((await run(t, s, ['audit', '--from', 'x'])).code, 2)
})

t.test('clusters: a cluster whose root key changed says which identity the coordinator adopted and how to get it', async t => {
  const s = await standIn(t)
  const identity = 'h1:' + 'A'.repeat(43)
  s.app.get('/v1/clusters', async () => [{ ...cluster(), rootKey: { identity, adoptedAt: Date.UTC(2026, 11, 3, 6, 0, 0) } }, { ...cluster(), name: 'other', rootKey: { identity, adoptedAt: 0, handedOverAt: Date.UTC(2026, 11, 3, 7, 0, 0) } }])
  await s.start()
  const human = await run(t, s, ['clusters'])
  t.equal(human.code, 0)
  t.match(human.stdout, `prod: its root API key changed; the coordinator adopted ${identity} at 2026-12-03T06:00:00.000Z (not handed over yet: keyroll cluster root-key prod --out FILE)`)
  t.match(human.stdout, 'other: its root API key changed; the coordinator adopted')
  t.match(human.stdout, '(handed over at 2026-12-03T07:00:00.000Z)')
})
