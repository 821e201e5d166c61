import t from 'tap'
import { FailingJournal } from '../../../../agent/os/failing-journal.js'
import { FakeJournal } from '../../../../agent/os/fake-journal.js'
import type { JournalEntry } from '../../../../agent/os/journal.js'

t.test('tailCursor, read after a cursor, limits', async (t) => {
  const j = new FakeJournal({ now: () => 1000 })
  t.equal(await j.tailCursor(), '', 'empty journal: no cursor')
  const [a] = j.push({ message: 'a' }, { message: 'b' }, { message: 'c' }, { message: 'other', unit: 'x.service' })
  t.equal(a?.realtimeUs, 1_000_000)
  t.equal(await j.tailCursor(), j.entries.at(-1)?.cursor)
  t.same((await j.read({ unit: 'minkms' })).map((e) => e.message), ['a', 'b', 'c'])
  t.same((await j.read({ unit: 'minkms.service', afterCursor: a?.cursor ?? '' })).map((e) => e.message), ['b', 'c'])
  t.same((await j.read({ unit: 'minkms.service', afterCursor: a?.cursor ?? '', limit: 1 })).map((e) => e.message), ['b'])
  t.same((await j.read({ unit: 'minkms.service', limit: 1 })).map((e) => e.message), ['c'], 'no cursor: the newest')
  await t.rejects(j.read({ unit: 'minkms', afterCursor: 'nope' }), { code: 'AGT_JOURNAL_READ_FAILED' })
})

t.test('followers get the backlog after the cursor, then live entries; abort ends them', async (t) => {
  const j = new FakeJournal()
  const [first] = j.push({ message: 'old' })
  const ac = new AbortController()
  const got: string[] = []
  const done = (async () => {
    for await (const e of j.follow({ unit: 'minkms', afterCursor: first?.cursor ?? '', signal: ac.signal })) {
      got.push(e.message)
      if (got.length === 2) ac.abort()
    }
  })()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(j.activeFollowers, 1)
  j.push({ message: 'new1' })
  j.push({ message: 'new2' })
  await done
  t.same(got, ['new1', 'new2'])
  t.equal(j.activeFollowers, 0)
})

t.test('breakFollowers makes running follows throw; later ones work', async (t) => {
  const j = new FakeJournal()
  const it = j.follow({ unit: 'minkms', signal: new AbortController().signal })[Symbol.asyncIterator]()
  const pending = it.next()
  await new Promise((resolve) => setImmediate(resolve))
  j.breakFollowers()
  await t.rejects(pending, { code: 'AGT_JOURNAL_FOLLOW_FAILED' })
  t.equal(j.activeFollowers, 0)
  const ac = new AbortController()
  const again = j.follow({ unit: 'minkms', signal: ac.signal })[Symbol.asyncIterator]()
  const next = again.next()
  j.push({ message: 'x' })
  t.equal((await next).value?.message, 'x')
  ac.abort()
  await again.return?.(undefined)
})

t.test('FailingJournal: every call fails, typed', async (t) => {
  const j = new FailingJournal()
  await t.rejects(j.tailCursor(), { code: 'AGT_JOURNAL_READ_FAILED' })
  await t.rejects(j.read(), { code: 'AGT_JOURNAL_READ_FAILED' })
  const consume = async (): Promise<JournalEntry[]> => {
    const out: JournalEntry[] = []
    for await (const e of j.follow()) out.push(e)
    return out
  }
  await t.rejects(consume(), { code: 'AGT_JOURNAL_FOLLOW_FAILED' })
})

t.test('failWith makes read and follow fail; followersClosed waits for every follow to end', async (t) => {
  const j = new FakeJournal()
  await j.followersClosed()
  const ac = new AbortController()
  const it = j.follow({ unit: 'minkms', signal: ac.signal })[Symbol.asyncIterator]()
  const next = it.next()
  j.push({ message: 'x' })
  t.equal((await next).value?.message, 'x')
  t.same(j.followers, { opened: 1, closed: 0 })
  let closed = false
  const waiting = j.followersClosed().then(() => { closed = true })
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(closed, 'a follow is still running')
  ac.abort()
  await it.next()
  await waiting
  t.same(j.followers, { opened: 1, closed: 1 })
  j.failWith = new Error('journal gone')
  await t.rejects(j.read({ unit: 'minkms' }), /journal gone/)
  await t.rejects(j.follow({ unit: 'minkms', signal: new AbortController().signal })[Symbol.asyncIterator]().next(), /journal gone/)
})
