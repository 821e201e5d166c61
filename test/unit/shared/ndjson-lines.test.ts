import t from 'tap'
import { PassThrough, Readable } from 'node:stream'
import { LineTooLongError, lines } from '../../../shared/ndjson-lines.js'

async function collect (it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const l of it) out.push(l)
  return out
}

t.test('splits across chunks, keeps split UTF-8 sequences whole, yields a last unterminated line', async (t) => {
  const bytes = Buffer.from('one\ntwo grüß\nthree', 'utf8')
  const cut = bytes.indexOf(0xc3) + 1 // in the middle of ü
  const chunks = [bytes.subarray(0, 2), bytes.subarray(2, cut), bytes.subarray(cut)]
  t.same(await collect(lines(Readable.from(chunks))), ['one', 'two grüß', 'three'])
})

t.test('many lines in one chunk, empty lines kept', async (t) => {
  t.same(await collect(lines(Readable.from([Buffer.from('a\n\nb\n')]))), ['a', '', 'b'])
})

t.test('a line beyond the limit stops the iteration', async (t) => {
  await t.rejects(collect(lines(Readable.from([Buffer.from('x'.repeat(100))]), 10)), LineTooLongError)
})

t.test('pulls lazily: nothing is read while the consumer does not ask (backpressure)', async (t) => {
  const src = new PassThrough({ highWaterMark: 64 })
  const it = lines(src)[Symbol.asyncIterator]()
  src.write('first\n')
  t.same(await it.next(), { value: 'first', done: false })
  let accepted = 0
  while (src.write('{"x":"' + 'y'.repeat(30) + '"}\n')) accepted++
  t.ok(accepted < 10, `the writer was told to wait after ${accepted} lines`)
  const r = await it.next()
  t.equal(r.done, false)
  await it.return?.(undefined)
})
