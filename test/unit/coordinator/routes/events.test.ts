// GET /v1/rollouts/:id/events over real HTTP on loopback: stored then live events without gaps or
// duplicates (also when events are appended while the stored ones are read, or a notification is
// lost), NDJSON and SSE, `from` and `Last-Event-ID` resume (also across pages of stored events written
// as one chunk each), heartbeats, the end of the stream when
// the rollout is terminal, and unsubscribing when the client leaves.
import t, { type Test } from 'tap'
import { request } from 'undici'
import type { RolloutEvent } from '../../../../shared/schemas/rollout.js'
import { buildTestCoordinator, type TestCoordinator } from '../../../helpers/coordinator-app.js'
import { FakeRolloutControl } from '../../../helpers/fake-rollout-control.js'

const CHANGE = { revision: 4, files: { config: { set: { a: 1 }, delete: [] } }, restart: 'on-change' as const, verify: { deadline: '60s', stableFor: '5s' } }

async function started (t: Test, control?: FakeRolloutControl, heartbeatMs = 60_000): Promise<TestCoordinator & { base: string, id: string }> {
  const c = await buildTestCoordinator(t, { heartbeatMs, ...(control === undefined ? {} : { control }) })
  const base = await c.app.listen({ host: '127.0.0.1', port: 0 })
  const r = await c.control.start({ cluster: 'c1', change: CHANGE, planHash: c.control.planHash('c1', CHANGE), actor: 'bob' })
  return { ...c, base, id: r.id }
}

/** Reads a stream chunk by chunk; `until` says when enough was read. */
async function readStream (body: AsyncIterable<Buffer | string>, until: (text: string) => boolean = () => false): Promise<string> {
  let text = ''
  for await (const chunk of body) {
    text += chunk.toString()
    if (until(text)) break
  }
  return text
}

const ndjson = (text: string): Array<RolloutEvent | Record<string, never>> => text.split('\n').filter(l => l !== '').map(l => JSON.parse(l))
const indexes = (text: string): number[] => ndjson(text).filter((e): e is RolloutEvent => 'index' in e).map(e => e.index)

t.test('NDJSON: stored events, then live ones, ending when the rollout is terminal; no gap, no duplicate', async t => {
  const c = await started(t)
  for (let i = 0; i < 3; i++) c.control.emit(c.id, { type: 'info', message: `stored ${i}`, node: 'node1' })
  const res = await request(`${c.base}/v1/rollouts/${c.id}/events?from=1`, { headers: c.viewer })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/x-ndjson/)
  let sent = false
  const text = await readStream(res.body, got => {
    if (!sent && got.includes('stored 2')) {
      sent = true
      c.control.emit(c.id, { type: 'journal', message: 'minkms ready', node: 'node1', data: { cursor: 's=1' } })
      c.control.setState(c.id, 'succeeded')
    }
    return false
  })
  t.same(indexes(text), [1, 2, 3, 4, 5], 'from 1 to the terminal event, each once')
  t.match(ndjson(text).at(-1), { type: 'rollout', data: { state: 'succeeded' } })
  t.equal(c.control.subscribers(c.id), 0, 'unsubscribed at the end')
})

t.test('events appended while the stored ones are read, and a lost notification: still no gap, no duplicate', async t => {
  class Racing extends FakeRolloutControl {
    racing = true
    override async events (id: string, opts: { from?: number, limit?: number } = {}): Promise<RolloutEvent[]> {
      const page = await super.events(id, opts)
      // Appended after the store was read but before the page is used: arrives live only.
      if (this.racing) { this.racing = false; this.emit(id, { type: 'info', message: 'raced' }) }
      return page
    }
  }
  const control = new Racing({ c1: ['node1', 'node2', 'node3'], c2: ['node9'] })
  const c = await started(t, control)
  const res = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: c.viewer })
  const text = await readStream(res.body, got => {
    if (got.includes('"raced"') && !got.includes('"silent"')) {
      control.emit(c.id, { type: 'info', message: 'silent' }, { notify: false })
      control.emit(c.id, { type: 'info', message: 'after' })
      control.setState(c.id, 'failed')
    }
    return false
  })
  t.same(indexes(text), [0, 1, 2, 3, 4])
  t.same(ndjson(text).map(e => (e as RolloutEvent).message), ['rollout started', 'raced', 'silent', 'after', 'rollout failed'])
})

t.test('?follow=0 ends after the stored events; a terminal rollout\'s stream ends by itself', async t => {
  const c = await started(t)
  c.control.emit(c.id, { type: 'info', message: 'one' })
  const once = await request(`${c.base}/v1/rollouts/${c.id}/events?follow=0`, { headers: c.viewer })
  t.same(indexes(await once.body.text()), [0, 1])
  // Stored state terminal without its event yet (the engine saved the state first, silently).
  c.control.setState(c.id, 'aborted', { silent: true })
  const done = await request(`${c.base}/v1/rollouts/${c.id}/events?from=1`, { headers: c.viewer })
  t.same(indexes(await done.body.text()), [1])
})

t.test('the terminal event before the stored state: the stream still ends (checked on a tick)', async t => {
  const c = await started(t, undefined, 50)
  const res = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: c.viewer })
  const reading = readStream(res.body)
  // The event first, the state a moment later: the stream must notice on its own.
  c.control.emit(c.id, { type: 'rollout', message: 'rollout succeeded', data: { state: 'succeeded' } })
  setTimeout(() => { c.control.setState(c.id, 'succeeded', { silent: true }) }, 20)
  t.same(indexes(await reading), [0, 1])
})

t.test('SSE: id lines are indexes, Last-Event-ID resumes after the one given', async t => {
  const c = await started(t)
  for (let i = 0; i < 4; i++) c.control.emit(c.id, { type: 'info', message: `e${i}` })
  c.control.setState(c.id, 'succeeded')
  const res = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: { ...c.viewer, accept: 'text/event-stream', 'last-event-id': '2' } })
  t.match(res.headers['content-type'], /^text\/event-stream/)
  const text = await res.body.text()
  const messages = text.split('\n\n').filter(m => m !== '')
  t.same(messages.map(m => Number(/^id: (\d+)$/m.exec(m)?.[1])), [3, 4, 5])
  t.same(messages.map(m => JSON.parse(/^data: (.*)$/m.exec(m)?.[1] ?? 'null').index), [3, 4, 5], 'data carries the same index')
  const bad = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: { ...c.viewer, accept: 'text/event-stream', 'last-event-id': 'x' } })
  t.equal(bad.statusCode, 400)
  await bad.body.dump()
})

t.test('heartbeats while idle (NDJSON {} and SSE comments); leaving unsubscribes', async t => {
  const c = await started(t, undefined, 30)
  const ac = new AbortController()
  const res = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: c.viewer, signal: ac.signal })
  const text = await readStream(res.body, got => got.split('\n').filter(l => l === '{}').length >= 2)
  t.ok(text.split('\n').filter(l => l === '{}').length >= 2, 'two {} heartbeats')
  ac.abort()
  const sse = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: { ...c.viewer, accept: 'text/event-stream' }, signal: ac.signal }).catch(() => undefined)
  t.equal(sse, undefined, 'aborted signal: no request')
  const ac2 = new AbortController()
  const res2 = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: { ...c.viewer, accept: 'text/event-stream' }, signal: ac2.signal })
  const text2 = await readStream(res2.body, got => got.includes(': heartbeat\n\n'))
  t.match(text2, /: heartbeat\n\n/)
  ac2.abort()
  const deadline = Date.now() + 5000
  while (c.control.subscribers(c.id) > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(c.control.subscribers(c.id), 0, 'both streams unsubscribed once their clients left')
})

t.test('auth, 404 and bad query', async t => {
  const c = await started(t)
  const none = await request(`${c.base}/v1/rollouts/${c.id}/events`)
  t.equal(none.statusCode, 401)
  await none.body.dump()
  const missing = await request(`${c.base}/v1/rollouts/nope/events`, { headers: c.viewer })
  t.equal(missing.statusCode, 404)
  await missing.body.dump()
  for (const q of ['from=-1', 'from=x', 'follow=maybe', 'x=1']) {
    const res = await request(`${c.base}/v1/rollouts/${c.id}/events?${q}`, { headers: c.viewer })
    t.equal(res.statusCode, 400, q)
    await res.body.dump()
  }
})

t.test('many stored events (pages written as one chunk each): NDJSON and SSE keep every index once, in order, resumable, masked', async t => {
  const c = await started(t)
  const key = `k1:${'A'.repeat(43)}`
  for (let i = 1; i < 1200; i++) c.control.emit(c.id, { type: 'info', message: i === 777 ? `leaked ${key}` : `e${i}` })
  c.control.setState(c.id, 'succeeded')
  const all = Array.from({ length: 1201 }, (_, i) => i)
  const nd = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: c.viewer })
  const text = await nd.body.text()
  t.same(indexes(text), all, 'NDJSON: 0 to the terminal event, each once')
  t.notOk(text.includes(key), 'the key lookalike is masked inside a batch')
  t.match((ndjson(text)[777] as RolloutEvent).message, /^leaked \*\*\*/)
  const sse = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: { ...c.viewer, accept: 'text/event-stream', 'last-event-id': '700' } })
  const messages = (await sse.body.text()).split('\n\n').filter(m => m !== '')
  t.same(messages.map(m => Number(/^id: (\d+)$/m.exec(m)?.[1])), all.slice(701), 'SSE resumes after Last-Event-ID, each id once')
  t.same(messages.map(m => JSON.parse(/^data: (.*)$/m.exec(m)?.[1] ?? 'null').index), all.slice(701), 'data carries the same index')
})

t.test('a live event followed by several streams (its text made once for all): each gets it, masked, in its own format', async t => {
  const c = await started(t)
  const key = `k1:${'B'.repeat(43)}`
  // The body's text in a box: an async function returning the promise itself would wait for it.
  const open = async (sse: boolean): Promise<{ text: Promise<string> }> => {
    const res = await request(`${c.base}/v1/rollouts/${c.id}/events`, { headers: { ...c.viewer, ...(sse ? { accept: 'text/event-stream' } : {}) } })
    return { text: res.body.text() }
  }
  const texts = [(await open(false)).text, (await open(false)).text, (await open(true)).text]
  const deadline = Date.now() + 5000
  while (c.control.subscribers(c.id) < 3 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 5))
  t.equal(c.control.subscribers(c.id), 3, 'three streams follow')
  c.control.emit(c.id, { type: 'journal', message: `line with ${key}`, node: 'node1' })
  c.control.setState(c.id, 'succeeded')
  const [a, b, sse] = await Promise.all(texts)
  t.equal(a, b, 'the NDJSON streams got the same bytes')
  t.match((ndjson(a ?? '').find(e => 'type' in e && e.type === 'journal') as RolloutEvent).message, /^line with \*\*\*/)
  for (const text of [a, b, sse]) t.notOk(text?.includes(key), 'masked on every stream')
  const messages = (sse ?? '').split('\n\n').filter(m => m !== '')
  t.same(messages.map(m => Number(/^id: (\d+)$/m.exec(m)?.[1])), indexes(a ?? ''), 'SSE: the same events, each with its id')
})
