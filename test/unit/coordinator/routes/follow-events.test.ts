// followEvents writes in batches (a page of stored events per write, the live events queued
// meanwhile in one more), and batching keeps the stream's promises: every index once, in order,
// none skipped, also with events appended (notified or not) while a batch is being written, and a
// stream cut after any batch resumes from the next index with nothing lost or repeated.
import t from 'tap'
import { TERMINAL_ROLLOUT_STATES, type RolloutEvent } from '../../../../shared/schemas/rollout.js'
import { END_GRACE_MS, followEvents } from '../../../../coordinator/routes/follow-events.js'
import { FakeRolloutControl } from '../../../helpers/fake-rollout-control.js'

const CHANGE = { revision: 4, files: { config: { set: { a: 1 }, delete: [] } }, restart: 'on-change' as const, verify: { deadline: '60s', stableFor: '5s' } }

async function rolloutWith (stored: number): Promise<{ control: FakeRolloutControl, id: string }> {
  const control = new FakeRolloutControl()
  const { id } = await control.start({ cluster: 'c1', change: CHANGE, planHash: control.planHash('c1', CHANGE), actor: 'bob' })
  for (let i = 1; i < stored; i++) control.emit(id, { type: 'info', message: `stored ${i}` })
  return { control, id }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

t.test('stored events go out a page per write, live ones queued during a write in one batch; every index once, in order', async t => {
  const { control, id } = await rolloutWith(1234)
  const batches: number[][] = []
  let raced = false
  await followEvents({
    control,
    terminal: TERMINAL_ROLLOUT_STATES,
    stateEvents: ['rollout'],
    id,
    from: 0,
    follow: true,
    signal: new AbortController().signal,
    checkEveryMs: 20,
    write: async (events: RolloutEvent[]) => {
      batches.push(events.map(e => e.index))
      if (!raced) {
        raced = true
        // While the first page is written: live events (one of them never notified, as a lost
        // notification would be), then the end of the rollout.
        for (let i = 0; i < 5; i++) control.emit(id, { type: 'info', message: `live ${i}` }, { notify: i !== 2 })
        control.setState(id, 'succeeded')
      }
      await new Promise(resolve => setImmediate(resolve))
    }
  })
  const sent = batches.flat()
  t.same(sent, range(0, 1240), 'indexes 0 to the terminal event, each once, in order')
  for (const b of batches) t.same(b, range(b[0] ?? 0, (b[0] ?? 0) + b.length), `batch from ${b[0] ?? '-'} is consecutive`)
  t.same(batches[0]?.length, 500, 'the first write is a whole page of stored events')
  t.ok(batches.length <= 5, `${sent.length} events in ${batches.length} writes`)
  t.equal(control.subscribers(id), 0, 'unsubscribed at the end')
})

t.test('live events that arrive together go out together; one not notified is read from the store in its place', async t => {
  const { control, id } = await rolloutWith(1)
  const batches: number[][] = []
  await followEvents({
    control,
    terminal: TERMINAL_ROLLOUT_STATES,
    stateEvents: ['rollout'],
    id,
    from: 0,
    follow: true,
    signal: new AbortController().signal,
    checkEveryMs: 20,
    write: async (events: RolloutEvent[]) => {
      batches.push(events.map(e => e.index))
      if (batches.length > 1) return
      // Once the stream waits for live events: a burst, the sixth never notified.
      setTimeout(() => {
        for (let i = 1; i <= 10; i++) control.emit(id, { type: 'info', message: `live ${i}` }, { notify: i !== 6 })
        control.setState(id, 'succeeded')
      }, 30)
    }
  })
  t.same(batches.flat(), range(0, 12), 'every index once, in order')
  for (const b of batches) t.same(b, range(b[0] ?? 0, (b[0] ?? 0) + b.length), `batch from ${b[0] ?? '-'} is consecutive`)
  t.same(batches.slice(1), [range(1, 6), range(6, 12)], 'the notified run in one write, then the rest from the store in one')
})

t.test('a stream cut after any batch resumes from the next index: nothing lost, nothing repeated', async t => {
  const { control, id } = await rolloutWith(1100)
  const got: number[] = []
  const ac = new AbortController()
  await followEvents({
    control,
    terminal: TERMINAL_ROLLOUT_STATES,
    stateEvents: ['rollout'],
    id,
    from: 0,
    follow: true,
    signal: ac.signal,
    checkEveryMs: 20,
    write: async (events: RolloutEvent[]) => {
      got.push(...events.map(e => e.index))
      if (got.length >= 500) ac.abort()
    }
  })
  t.same(got, range(0, 500), 'cut after the first page')
  // The client resumes after the last index it has (Last-Event-ID + 1); events came meanwhile.
  control.emit(id, { type: 'info', message: 'while away' })
  control.setState(id, 'failed')
  const last = got.at(-1) ?? -1
  const batches: number[][] = []
  await followEvents({
    control,
    terminal: TERMINAL_ROLLOUT_STATES,
    stateEvents: ['rollout'],
    id,
    from: last + 1,
    follow: true,
    signal: new AbortController().signal,
    checkEveryMs: 20,
    write: async (events: RolloutEvent[]) => { batches.push(events.map(e => e.index)) }
  })
  t.same([...got, ...batches.flat()], range(0, 1102), 'both streams together: every index once, in order')
  t.ok(batches.every(b => b.length > 1), 'the resumed stream is batched too')
})

t.test('?follow=0: the stored events in pages, then the end', async t => {
  const { control, id } = await rolloutWith(501)
  const batches: number[][] = []
  await followEvents({ control, terminal: TERMINAL_ROLLOUT_STATES, stateEvents: ['rollout'], id, from: 3, follow: false, signal: new AbortController().signal, checkEveryMs: 20, write: async (events: RolloutEvent[]) => { batches.push(events.map(e => e.index)) } })
  t.same(batches.map(b => b.length), [498], 'one write')
  t.same(batches.flat(), range(3, 501))
  t.equal(control.subscribers(id), 0, 'never subscribed')
})

t.test('a state stored terminal before its event is appended: the stream waits for that event, and does not hang without it', async t => {
  const { control, id } = await rolloutWith(3)
  const got: RolloutEvent[] = []
  // The engine writes "stopping" then the terminal state; the state lands first, its event a little later.
  control.setState(id, 'failed', { silent: true })
  const following = followEvents({
    control,
    terminal: TERMINAL_ROLLOUT_STATES,
    stateEvents: ['rollout'],
    id,
    from: 0,
    follow: true,
    signal: new AbortController().signal,
    checkEveryMs: 20,
    write: async (events: RolloutEvent[]) => { got.push(...events) }
  })
  await new Promise(resolve => setTimeout(resolve, 100))
  control.emit(id, { type: 'rollout', message: 'rollout failed', data: { state: 'failed' } })
  await following
  t.match(got.at(-1), { type: 'rollout', data: { state: 'failed' } }, 'the terminal event was sent before the end')

  // A producer that never appends one: the stream still ends, after END_GRACE_MS.
  const other = await rolloutWith(2)
  other.control.setState(other.id, 'aborted', { silent: true })
  const t0 = Date.now()
  await followEvents({ control: other.control, terminal: TERMINAL_ROLLOUT_STATES, stateEvents: ['rollout'], id: other.id, from: 0, follow: true, signal: new AbortController().signal, checkEveryMs: 20, write: async () => {} })
  t.ok(Date.now() - t0 >= END_GRACE_MS, 'ended after the grace period')
})
