// The stager's own bounds: a stage that never answers is given up after its timeout, so the
// node's turn goes on the ordinary way (take() answers false) instead of waiting for the HTTP
// client's request timeout; the report says why.
import t from 'tap'
import type { ChangeSpec } from '../../../../shared/change/schema.js'
import { systemClock } from '../../../../shared/clock.js'
import { createLogger } from '../../../../shared/logger.js'
import type { AgentStagingClient } from '../../../../coordinator/ports/agent-client.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { STAGE_TIMEOUT_MS, Stager, type StageReport } from '../../../../coordinator/engine/stager.js'

const node: NodeRef = { cluster: 'c1', name: 'node2', agentUrl: 'https://127.0.0.1:1', minkms: '127.0.0.1:7373' }
const change: ChangeSpec = { revision: 3, files: { config: { set: { 'log.level': 'debug' } } } }

/** A staging client whose stage answers only when aborted (an agent gone mid-stage). */
function hangingClient (): AgentStagingClient & { aborted: () => boolean } {
  let aborted = false
  return {
    aborted: () => aborted,
    stage: async (_n, _c, opts) => await new Promise((_resolve, reject) => {
      opts?.signal?.addEventListener('abort', () => { aborted = true; reject(opts.signal?.reason ?? new Error('aborted')) }, { once: true })
    }),
    commitStaged: async () => { throw new Error('not staged') },
    discardStaged: async () => undefined
  }
}

t.test('a stage that does not answer is given up after its timeout; the turn goes on unstaged', async (t) => {
  t.ok(STAGE_TIMEOUT_MS < 30_000, "the default bound is below the agent client's 30 s request timeout")
  const client = hangingClient()
  const reports: StageReport[] = []
  const ac = new AbortController()
  // AbortSignal.timeout's timer does not keep a process alive (a daemon's server does).
  const alive = setInterval(() => {}, 1000)
  t.teardown(() => { clearInterval(alive) })
  const stager = new Stager(client, change, { clock: systemClock, log: createLogger({ level: 'silent' }), signal: ac.signal, report: async (r) => { reports.push(r) }, stageTimeoutMs: 50 })
  stager.stage(node)
  t.equal(await stager.take('node2'), false, 'not staged: the node is applied the ordinary way')
  t.ok(client.aborted(), 'the stage call was aborted')
  t.equal(reports.length, 1)
  t.match(reports[0], { node: 'node2', revision: 3, ok: false })
  t.match(reports[0]?.message, /time|abort/i, 'the report says it timed out')
  await stager.settled()
})

t.test('an abort of the rollout ends a stage in flight without a report', async (t) => {
  const client = hangingClient()
  const reports: StageReport[] = []
  const ac = new AbortController()
  const stager = new Stager(client, change, { clock: systemClock, log: createLogger({ level: 'silent' }), signal: ac.signal, report: async (r) => { reports.push(r) } })
  stager.stage(node)
  ac.abort()
  t.equal(await stager.take('node2'), false)
  t.same(reports, [], 'an aborted rollout reports nothing')
})
