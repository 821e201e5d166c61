// keyroll rollout watch against a TLS stand-in streaming NDJSON events: exit 0 on success, 1 on
// failure, 2 for an unknown rollout; each event shown once and in order, heartbeats ignored; a
// stream broken mid-way followed again with ?from=; plain lines without a TTY, redrawn per-node
// lines on one.
import t from 'tap'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Rollout, RolloutEvent } from '../../../../shared/schemas/rollout.js'
import { cli, standIn, TOKEN, type StandIn } from './stand-in.js'
import { events, FAILED_VERDICT, rollout } from './fixtures.js'

// The hints name the command as `keyroll` unless run under npx (cli-name.ts): pinned, whatever runs these tests.
delete process.env.npm_command

interface Script {
  events: RolloutEvent[]
  final: Rollout
  /** Connection number (0-based) → index after which that stream is cut. */
  cutAfter?: Record<number, number>
}

/** Serves a rollout's events: each stream from `?from=`, then ends (or is cut); the rollout is final once every event went out. */
async function serveRollout (s: StandIn, script: Script): Promise<{ froms: string[] }> {
  const froms: string[] = []
  let sent = 0
  let streams = 0
  s.app.get('/v1/rollouts/:id', async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    if (req.params.id !== script.final.id) return await reply.code(404).send({ code: 'CRD_NOT_FOUND', message: `no such rollout ${req.params.id}`, statusCode: 404 })
    return sent >= script.events.length ? script.final : { ...rollout('running'), nodes: script.final.nodes.map(n => ({ node: n.node, state: 'pending' as const })) }
  })
  s.app.get('/v1/rollouts/:id/events', (req: FastifyRequest<{ Querystring: { from?: string, follow?: string } }>, reply: FastifyReply) => {
    const q = req.query
    froms.push(`${q.from ?? ''}${q.follow === undefined ? '' : `&follow=${q.follow}`}`)
    const n = streams++
    const from = Number(q.from ?? 0)
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.write('{}\n') // a heartbeat
    for (const e of script.events.filter(e => e.index >= from)) {
      sent = Math.max(sent, e.index + 1)
      if (script.cutAfter?.[n] === e.index) {
        // The connection drops mid-stream (once this line is out): no end of the chunked body.
        res.write(JSON.stringify(e) + '\n', () => { res.socket?.destroy() })
        return
      }
      res.write(JSON.stringify(e) + '\n')
    }
    res.end()
  })
  await s.start()
  return { froms }
}

const lines = (text: string, re: RegExp): string[] => text.split('\n').filter(l => re.test(l))

t.test('a rollout that succeeds: plain lines, each event once in order, exit 0', async t => {
  const s = await standIn(t)
  const ev = events('succeeded')
  const served = await serveRollout(s, { events: ev, final: rollout('succeeded', [{ node: 'node1', state: 'done' }, { node: 'node2', state: 'done' }]) })
  const r = await cli(['rollout', 'watch', 'r-42'], { env: s.env })
  t.equal(r.code, 0, r.stderr)
  t.notOk(r.stdout.includes('\x1b['), 'no terminal control sequences when stdout is not a TTY')
  t.same(lines(r.stdout, /^\d\d:\d\d:\d\d\.\d{3} /).length, ev.length, 'one line per event')
  t.match(r.stdout, /10:00:03\.000 node1 \| minkms: listening on :7373/)
  t.match(r.stdout, /10:00:09\.000 - rollout: rollout succeeded/)
  t.match(r.stdout, /rollout r-42 on cluster prod: succeeded/)
  t.same(served.froms, ['0', '10&follow=0'], 'followed from 0, then read what is stored from the next index')
  t.notMatch(r.stdout + r.stderr, new RegExp(TOKEN))
})

t.test('a rollout that fails: the journal evidence and the failed node shown, exit 1; --json prints the final rollout only', async t => {
  const s = await standIn(t)
  const final = rollout('failed', [{ node: 'node1', state: 'done' }, { node: 'node2', state: 'failed', verdict: FAILED_VERDICT, message: 'rolled back by its agent' }], 'node2 failed: minkms logged a fatal line; rollout halted')
  await serveRollout(s, { events: events('failed'), final })
  const r = await cli(['rollout', 'watch', 'r-42'], { env: s.env })
  t.equal(r.code, 1)
  t.match(r.stdout, /node2 \| FATAL: cannot open HSM: no such slot/)
  t.match(r.stdout, /node2\s+failed: rolled back by its agent\n\s+verdict: minkms logged a fatal line after the restart\n\s+fatal: FATAL: cannot open HSM/)
  t.match(r.stdout, /node2 failed: minkms logged a fatal line; rollout halted/)

  const json = await cli(['rollout', 'watch', 'r-42', '--json'], { env: s.env })
  t.equal(json.code, 1)
  t.same(JSON.parse(json.stdout), final, 'one JSON document: the final rollout')
})

t.test('a stream broken mid-way is followed again with ?from= the next index; nothing shown twice', async t => {
  const s = await standIn(t)
  const ev = events('succeeded')
  const served = await serveRollout(s, { events: ev, final: rollout('succeeded'), cutAfter: { 0: 3, 1: 6 } })
  const r = await cli(['rollout', 'watch', 'r-42'], { env: s.env })
  t.equal(r.code, 0, r.stderr)
  t.same(served.froms, ['0', '4', '7', '10&follow=0'])
  t.equal(lines(r.stdout, /^\d\d:\d\d:\d\d\.\d{3} /).length, ev.length, 'each event once')
  t.equal(lines(r.stdout, /node1 \| minkms: listening/).length, 1)
  t.match(r.stderr, /lost the event stream .*; following again from event 4/)
})

t.test('on a TTY: per-node lines redrawn in place, journal lines above them', async t => {
  const s = await standIn(t)
  await serveRollout(s, { events: events('succeeded'), final: rollout('succeeded', [{ node: 'node1', state: 'done' }, { node: 'node2', state: 'done' }]) })
  const r = await cli(['rollout', 'watch', 'r-42'], { env: s.env }, { tty: true })
  t.equal(r.code, 0, r.stderr)
  t.ok(r.stdout.includes('\x1b[3F\x1b[0J'), 'the three-line block (header, node1, node2) is redrawn')
  t.match(r.stdout, /node1 \| minkms: listening on :7373\nrollout r-42 on prod: running\n {2}node1 {2}applying/)
  t.match(r.stdout, /rollout r-42 on cluster prod: succeeded/)
  t.notMatch(r.stdout, /node1 apply: restart: started/, 'apply progress is not a line of its own')
  t.match(r.stdout, / {2}node1 {2}applying {2}restart: started/, 'it moves the node line')
})

t.test('an unknown rollout exits 2; an unreachable coordinator exits 1', async t => {
  const s = await standIn(t)
  await serveRollout(s, { events: [], final: rollout('succeeded') })
  const r = await cli(['rollout', 'watch', 'r-nope'], { env: s.env })
  t.equal(r.code, 2)
  t.match(r.stderr, 'CRD_NOT_FOUND: no such rollout r-nope')
  await s.app.close()
  const gone = await cli(['rollout', 'watch', 'r-42'], { env: s.env })
  t.equal(gone.code, 1)
  t.match(gone.stderr, /CRD_CLI_UNREACHABLE: cannot reach the coordinator at https:\/\/127\.0\.0\.1:\d+\/: connection refused.*check KEYROLL_URL/)
})
