// agent/convergence-slots.ts against a real HTTPS coordinator stand-in on 127.0.0.1 with mutual
// TLS: the contract of docs/agent-coordinator.md (409 + retryAfterMs, backoff on anything else,
// 201 grant, release), and that shutdown ends the waiting.
import t, { type Test } from 'tap'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { coordinatorGoAhead, type SlotClientOptions } from '../../../agent/convergence-slots.js'
import type { ApplyResult } from '../../../agent/core.js'
import type { Clock } from '../../../shared/clock.js'
import { LabCa } from '../../lab/lab-ca.js'
import { deadEndpoint } from '../shared/minkms/fixtures/kms-server.js'

const ca = await LabCa.create('coordinator test CA')
const serverPair = await ca.issue({ commonName: 'coordinator', ips: ['127.0.0.1'], usage: ['server'] })
const agentPair = await ca.issue({ commonName: 'node1 agent', usage: ['client'] })

interface Seen { method: string, url: string, body: unknown, peer: string }
type Answer = [status: number, body: string]

async function coordinator (t: Test, answers: Answer[]): Promise<{ url: string, seen: Seen[] }> {
  const seen: Seen[] = []
  const srv = createServer({ cert: serverPair.cert, key: serverPair.key, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const peer = (req.socket as TLSSocket).getPeerCertificate().subject?.CN
      seen.push({ method: req.method ?? '', url: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString() || 'null'), peer: typeof peer === 'string' ? peer : '-' })
      const [status, body] = answers.shift() ?? [204, '']
      res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/html' })
      res.end(body)
    })
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  t.teardown(() => { srv.closeAllConnections(); srv.close() })
  return { url: `https://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen }
}

/** A clock whose sleeps return at once and are recorded. */
function recordingClock (): Clock & { sleeps: number[] } {
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => Date.now(),
    monotonic: () => performance.now(),
    sleep: async (ms, signal) => { sleeps.push(ms); signal?.throwIfAborted(); await new Promise((resolve) => setImmediate(resolve)) }
  }
}

function recordingLog (): SlotClientOptions['log'] & { lines: string[] } {
  const lines: string[] = []
  const add = (_o: object, msg: string): void => { lines.push(msg) }
  return { lines, info: add, warn: add, error: add }
}

async function options (t: Test, url: string, clock: Clock, signal: AbortSignal, log = recordingLog()): Promise<SlotClientOptions> {
  const dir = t.testdir({})
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'agent.crt'), key: join(dir, 'agent.key') }
  await writeFile(files.ca, ca.certPem)
  await writeFile(files.cert, agentPair.cert)
  await writeFile(files.key, agentPair.key)
  return { url, ...files, node: 'node1', unit: 'minkms.service', clock, log, signal, timeoutMs: 2000 }
}

const RESULT: ApplyResult = {
  result: 'changed',
  revision: 12,
  changed: true,
  restarted: true,
  message: 'revision 12 applied',
  plan: { revision: 12, changed: true, restart: true, files: [] }
}

t.test('waits out 409s and odd answers, then takes the slot and releases it', async t => {
  const c = await coordinator(t, [
    [409, JSON.stringify({ retryAfterMs: 250, message: 'node2 is converging' })],
    [503, '<html>bad gateway</html>'],
    [201, JSON.stringify({ slotId: 'slot/1', ttlMs: 120000 })],
    [204, '']
  ])
  const clock = recordingClock()
  const log = recordingLog()
  const goAhead = await coordinatorGoAhead(await options(t, `${c.url}/`, clock, new AbortController().signal, log))
  const release = await goAhead(12)
  t.same(clock.sleeps, [250, 1000], 'retryAfterMs of the 409, then the backoff (0.5 s doubled) for the 503')
  t.same(c.seen.slice(0, 3).map(s => [s.method, s.url, s.body]), Array(3).fill(['POST', '/v1/convergence/slots', { node: 'node1', unit: 'minkms.service', revision: 12 }]))
  t.ok(c.seen.every(s => s.peer === 'node1 agent'), 'every request carried the agent certificate')
  t.ok(log.lines.includes('coordinator granted a convergence slot'))

  await release(RESULT)
  t.same(c.seen[3], { method: 'POST', url: '/v1/convergence/slots/slot%2F1/release', body: { revision: 12, result: 'changed', message: 'revision 12 applied' }, peer: 'node1 agent' })
})

t.test('a path prefix in the URL is kept', async t => {
  const c = await coordinator(t, [[201, JSON.stringify({ slotId: 's' })]])
  const goAhead = await coordinatorGoAhead(await options(t, `${c.url}/keyroll`, recordingClock(), new AbortController().signal))
  await goAhead(3)
  t.equal(c.seen[0]?.url, '/keyroll/v1/convergence/slots')
})

t.test('an unreachable coordinator is asked again with capped backoff until shutdown', async t => {
  const ac = new AbortController()
  const clock = recordingClock()
  const log = recordingLog()
  const base = clock.sleep
  clock.sleep = async (ms, signal) => {
    if (clock.sleeps.length === 8) ac.abort(new Error('agent stopping'))
    await base(ms, signal)
  }
  const goAhead = await coordinatorGoAhead(await options(t, `https://${await deadEndpoint()}`, clock, ac.signal, log))
  await t.rejects(goAhead(1), { message: 'agent stopping' })
  t.same(clock.sleeps, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
  t.ok(log.lines.filter(l => l === 'coordinator unreachable; will ask again').length >= 8)
})
