import t from 'tap'
import { RunTimeline } from '../../../../agent/verify/run-timeline.js'

t.test('the baseline run and empty ids are never runs', async (t) => {
  const tl = new RunTimeline('old')
  t.same(tl.observe('old', 0, 1, { manual: true }), [])
  t.same(tl.observe('', 0, 1, { manual: true }), [])
  t.equal(tl.kindOf('old'), 'baseline')
  t.equal(tl.kindOf('x'), undefined)
})

t.test('ours is the earliest manual run; runs wholly before it are pre, wholly after it are after', async (t) => {
  const tl = new RunTimeline('old')
  t.same(tl.observe('y', 10, 15, { manual: false, from: 'status' }), [], 'systemd\'s own restart: pending, no ours yet')
  t.equal(tl.kindOf('y'), 'pending')
  const changed = tl.observe('z', 20, 25, { manual: true, from: 'status' })
  t.same(changed.map((r) => [r.id, r.kind]), [['z', 'ours'], ['y', 'pre']])
  t.same(tl.observe('w', 30, 31, { manual: false, from: 'status' }).map((r) => [r.id, r.kind]), [['w', 'after']])
})

t.test('overlapping observations leave a run pending until one separates it', async (t) => {
  const tl = new RunTimeline('old')
  tl.observe('z', 20, 30, { manual: true, from: 'status' })
  t.same(tl.observe('y', 25, 25), [], 'inside ours\' interval: undecided')
  t.same(tl.observe('y', 22, 22).map((r) => r.kind), [], 'still overlapping')
  t.same(tl.observe('z', 40, 41).map((r) => [r.id, r.kind]), [['y', 'pre']], 'ours seen current later than y: y came first')
})

t.test('status outranks the journal on who started a run', async (t) => {
  const tl = new RunTimeline('old')
  tl.observe('y', 10, 12, { manual: false, from: 'status' })
  tl.observe('y', 11, 11, { manual: true, from: 'journal', startedAt: 11 })
  t.equal(tl.runs[0]?.manual, false)
  t.equal(tl.runs[0]?.startedAt, 11)
  t.equal(tl.ours, undefined)
})

t.test('the journal decides when status never saw the run', async (t) => {
  const tl = new RunTimeline('')
  t.same(tl.observe('z', 5, 5, { manual: true, from: 'journal', startedAt: 5 }).map((r) => r.kind), ['ours'])
  t.equal(tl.ours?.startedAt, 5)
})
