// The agent keeps answering /health/live while the largest change it accepts is planned: plans run
// in a worker thread (agent/apply/worker-planner.ts), not on the event loop that serves the API.
// Asserted as an order of events, never as a duration: every /health/live request sent while the
// plan is out must be answered before the plan is back from the planner (and so before the
// response). With planning on the event loop (the in-process planner) the probes wait behind the
// plan and this fails.
import { writeFile } from 'node:fs/promises'
import t from 'tap'
import { request } from 'undici'
import type { Planner } from '../../agent/apply/planner.js'
import { WorkerPlanner } from '../../agent/apply/worker-planner.js'
import { CHANGE_LIMITS } from '../../shared/change/limits.js'
import { startRealAgent } from '../helpers/real-agent.js'

const PROBES = 3

/** The largest plan: the most keys a change may set, on a 10,000-line config. */
function largestChange (revision: number): string {
  const set: Record<string, string> = {}
  for (let i = 0; i < CHANGE_LIMITS.maxKeys; i++) set[`section${i % 20}.key${i}`] = `value-${i}`
  return JSON.stringify({ revision, files: { config: { set } }, restart: 'never' })
}

function configOfLines (lines: number): string {
  const out = ['version: v1', 'tls:', '  ca: /etc/minkms/certs/CAs']
  for (let i = out.length; i < lines; i++) out.push(`setting${i}: value-${i}   # comment ${i}`)
  return out.join('\n') + '\n'
}

/** A worker planner that says when it was handed a plan and when it handed the plan back. */
function watchedPlanner (events: string[]): { planner: Planner, nextPlan: () => Promise<void> } {
  const worker = new WorkerPlanner()
  let waiter: (() => void) | undefined
  return {
    planner: {
      plan: async (current, change, opts) => {
        const p = worker.plan(current, change, opts)
        waiter?.()
        const plan = await p
        events.push(`planned ${change.revision}`)
        return plan
      },
      close: async () => { await worker.close() }
    },
    nextPlan: async () => await new Promise<void>(resolve => { waiter = resolve })
  }
}

for (const route of ['/v1/plan', '/v1/apply'] as const) {
  t.test(`/health/live answers while the largest change is planned (${route})`, async t => {
    const events: string[] = []
    const { planner, nextPlan } = watchedPlanner(events)
    const agent = await startRealAgent(t, { planner })
    // A first plan starts the worker, so that the one below measures planning, not starting.
    const warm = await request(`${agent.base}/v1/plan`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ revision: 1, files: { config: { set: { 'log.level': 'info' } } } }) })
    const warmText = await warm.body.text()
    t.equal(warm.statusCode, 200, warm.statusCode === 200 ? 'the warm-up plan' : warmText)
    await writeFile(agent.files.config, configOfLines(10_000))
    events.length = 0

    const planned = nextPlan()
    const big = request(`${agent.base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: largestChange(2), headersTimeout: 300_000, bodyTimeout: 300_000 })
      .then(async res => { const text = await res.body.text(); events.push('response'); return { status: res.statusCode, text } })
    await planned
    for (let i = 0; i < PROBES; i++) {
      const res = await request(`${agent.base}/health/live`)
      t.same(await res.body.json(), { ok: true })
      events.push('live')
    }
    const r = await big
    t.equal(r.status, 200, r.status === 200 ? `${route} answered` : r.text.slice(0, 300))
    if (route === '/v1/plan') t.match(JSON.parse(r.text), { revision: 2, changed: true })
    else t.match(r.text, /"result":"changed"/)
    // An apply plans twice (before and under the lock); the probes were sent during the first.
    t.same(events.slice(0, PROBES + 1), [...Array<string>(PROBES).fill('live'), 'planned 2'], 'every probe sent during the plan was answered before the plan was done')
    t.equal(events.at(-1), 'response', 'the response came last')
  })
}
