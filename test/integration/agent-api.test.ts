// The API on a real socket (loopback, plain HTTP dev mode), spoken to with undici: streams are
// really incremental, a follower ends when its client disconnects or the server closes.
import t, { type Test } from 'tap'
import { once } from 'node:events'
import { Agent, request } from 'undici'
import { buildAgentApp } from '../../agent/app.js'
import { FakeAgentCore, captureLogger, testAgentConfig, type FakeJournal } from '../helpers/fake-agent-core.js'

const CHANGE = { revision: 7, files: { env: { unset: ['MINIO_KMS_HSM_KEY'] } } }

async function start (t: Test, heartbeatMs = 15_000): Promise<{ base: string, core: FakeAgentCore, app: ReturnType<typeof buildAgentApp>, dispatcher: Agent }> {
  const { logger } = captureLogger()
  const core = new FakeAgentCore({ logger })
  const app = buildAgentApp({ core, config: testAgentConfig(), logger, heartbeatMs })
  t.teardown(() => app.close())
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  return { base, core, app, dispatcher }
}

/** Reads NDJSON lines from a response body, keeping its place between calls. */
class LineReader {
  readonly #it: AsyncIterator<Buffer | string>
  #buf = ''
  readonly #ready: Array<Record<string, unknown>> = []

  constructor (body: AsyncIterable<Buffer | string>) {
    this.#it = body[Symbol.asyncIterator]()
  }

  /** The next line, or undefined at the end of the stream. */
  async next (): Promise<Record<string, unknown> | undefined> {
    while (this.#ready.length === 0) {
      const r = await this.#it.next()
      if (r.done === true) return undefined
      this.#buf += String(r.value)
      const parts = this.#buf.split('\n')
      this.#buf = parts.pop() ?? ''
      for (const p of parts) this.#ready.push(JSON.parse(p) as Record<string, unknown>)
    }
    return this.#ready.shift()
  }

  /** Lines up to and including the first for which `stop` is true (or the end). */
  async until (stop: (line: Record<string, unknown>) => boolean): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = []
    for (let l = await this.next(); l !== undefined; l = await this.next()) {
      out.push(l)
      if (stop(l)) break
    }
    return out
  }
}

async function followerClosed (journal: FakeJournal): Promise<void> {
  if (journal.followers.closed < journal.followers.opened) await once(journal, 'follower-closed')
}

t.test('apply progress arrives while the apply is still running', async t => {
  const { base, core, dispatcher } = await start(t)
  let release: () => void = () => {}
  core.scripts.push({ gate: new Promise<void>(resolve => { release = resolve }) })
  const res = await request(`${base}/v1/apply`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify(CHANGE) })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/x-ndjson; charset=utf-8')
  const lines = new LineReader(res.body)
  const early = await lines.until(l => l.step === 'write' && l.status === 'done')
  t.notOk(early.some(l => 'result' in l), 'no result yet: the apply is held after write')
  t.equal((await core.status()).applying, true)
  release()
  const rest = await lines.until(l => 'result' in l)
  t.match(rest.at(-1), { result: { result: 'changed', revision: 7 } })
})

t.test('journal follow streams new entries and stops the follower when the client leaves', async t => {
  const { base, core, dispatcher } = await start(t)
  core.journal.push('old line')
  const res = await request(`${base}/v1/journal?follow=1&after=s%3D0%3Bi%3D1`, { dispatcher })
  t.equal(res.statusCode, 200)
  const lines = new LineReader(res.body)
  core.journal.push('Starting minkms')
  t.match(await lines.next(), { cursor: 's=0;i=2', message: 'Starting minkms' }, 'only entries after the cursor')
  core.journal.push('=> Server is up and running...')
  t.match(await lines.next(), { cursor: 's=0;i=3', message: '=> Server is up and running...' })
  t.equal(core.journal.followers.opened, 1)
  res.body.destroy()
  await followerClosed(core.journal)
  t.equal(core.journal.followers.closed, 1, 'the follower (its journalctl) was closed')
})

t.test('journal follow with a limit ends after that many entries', async t => {
  const { base, core, dispatcher } = await start(t)
  const res = await request(`${base}/v1/journal?follow=true&limit=2`, { dispatcher })
  core.journal.push('a')
  core.journal.push('b')
  core.journal.push('c')
  const text = await res.body.text()
  t.same(text.trim().split('\n').map(l => (JSON.parse(l) as { message: string }).message), ['a', 'b'])
  await followerClosed(core.journal)
  t.equal(core.journal.followers.closed, 1)
})

t.test('closing the server ends open followers instead of waiting for clients', async t => {
  const { base, core, app, dispatcher } = await start(t)
  const res = await request(`${base}/v1/journal?follow=1`, { dispatcher })
  const lines = new LineReader(res.body)
  core.journal.push('line')
  t.match(await lines.next(), { message: 'line' })
  await app.close()
  t.equal(core.journal.followers.closed, 1)
  t.equal(await lines.next(), undefined, 'the client got a clean end of stream')
})

t.test('an idle follower gets heartbeats', async t => {
  const { base, dispatcher } = await start(t, 10)
  const res = await request(`${base}/v1/journal?follow=1`, { dispatcher })
  t.same(await new LineReader(res.body).next(), {})
  res.body.destroy()
})
