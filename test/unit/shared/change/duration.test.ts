import t from 'tap'
import { formatDuration, parseDuration } from '../../../../shared/change/duration.js'

t.test('parse', async t => {
  const cases: Array<[string, number | undefined]> = [
    ['500ms', 500], ['60s', 60_000], ['2m', 120_000], ['1h', 3_600_000], ['1m30s', 90_000], ['1h2m3s4ms', 3_723_004], ['0s', 0],
    ['', undefined], ['60', undefined], ['1.5s', undefined], ['-1s', undefined], ['1 s', undefined], ['5d', undefined], ['s', undefined]
  ]
  for (const [s, ms] of cases) t.equal(parseDuration(s), ms, JSON.stringify(s))
  t.equal(parseDuration(`${'9'.repeat(20)}h`), undefined, 'overflow is not a duration')
})

t.test('format, and parse(format(x)) === x', async t => {
  const cases: Array<[number, string]> = [[500, '500ms'], [1500, '1500ms'], [5000, '5s'], [60_000, '60s'], [599_000, '599s'], [600_000, '10m'], [5_430_000, '1h30m30s'], [0, '0s']]
  for (const [ms, s] of cases) {
    t.equal(formatDuration(ms), s)
    t.equal(parseDuration(s), ms)
  }
  t.throws(() => formatDuration(-1), RangeError)
  t.throws(() => formatDuration(1.5), RangeError)
})
