// The migration report as the CLI writes it: read against its schema, printed per node.
import t from 'tap'
import { findingsLines, formatMs, overheadRatio, parseReport, reportLines } from '../../demo/demo-report.js'

const report = {
  id: 'm-1',
  result: 'succeeded',
  durationMs: 83_400,
  nodes: [
    { name: 'node1', restarts: 2, phases: { A: { verdict: 'ok', restartToVerdictMs: 4200, gate: { ok: true, message: 'served' } }, B: { verdict: 'ok', restartToVerdictMs: 3900 } } },
    { name: 'node2', restarts: 1, phases: { A: { verdict: 'ok' } } }
  ]
}

t.test('parse: a report, not JSON, off the schema', async (t) => {
  t.same(parseReport(JSON.stringify(report)), { report })
  t.match(parseReport('{'), { error: /not JSON/ })
  t.match(parseReport(JSON.stringify({ ...report, result: 'maybe' })), { error: /does not match its schema: \/result/ })
  t.match(parseReport(JSON.stringify({ id: 'x' })), { error: /does not match its schema/ })
})

t.test('printed: the result, then a row per node', async (t) => {
  const lines = reportLines({ ...report, result: 'succeeded' })
  t.equal(lines[0], 'migration m-1: succeeded in 1 min 23 s')
  t.match(lines[1], /^ {2}NODE +RESTARTS +PHASE A/)
  t.match(lines[2], /^ {2}node1 +2 +ok 4\.2 s, gate ok +ok 3\.9 s$/)
  t.match(lines[3], /^ {2}node2 +1 +ok +-$/)
  t.match(reportLines({ id: 'm', result: 'failed', durationMs: 10, message: 'node2 halted', nodes: [] })[0], 'migration m: failed in 10 ms (node2 halted)')
  t.same([formatMs(999), formatMs(12_340), formatMs(125_000)], ['999 ms', '12.3 s', '2 min 05 s'])
})

t.test('the overhead: wall time over the summed restart-to-verdict times, only when every phase has its time', async (t) => {
  const timed = { ...report, result: 'succeeded' as const, durationMs: 24_000, nodes: [report.nodes[0] as (typeof report.nodes)[0], { name: 'node2', restarts: 1, phases: { A: { verdict: 'ok', restartToVerdictMs: 3900 } } }] }
  t.same(overheadRatio(timed), { ratio: 24_000 / 12_000, restartsMs: 12_000 })
  t.match(reportLines(timed).at(-1), /^ {2}overhead: 2\.00 \(24\.0 s of migration over 12\.0 s of restart to verdict/)
  t.equal(overheadRatio({ ...report, result: 'succeeded' }), undefined, 'node2 phase A has no time: no ratio')
  t.equal(reportLines({ ...report, result: 'succeeded' }).length, 4, 'and no overhead line')
})

t.test('the demo\'s own findings per node', async (t) => {
  const lines = findingsLines([{ name: 'node1', restarts: { A: 1, B: 1, other: 0 }, problems: [] }, { name: 'node2', restarts: { A: 2, B: 0, other: 0 }, problems: ['a', 'b'] }])
  t.match(lines[1], /^ {2}node1 +1\/1\/0 +ok$/)
  t.match(lines[2], /^ {2}node2 +2\/0\/0 +a \(\+1 more, below\)$/)
})
