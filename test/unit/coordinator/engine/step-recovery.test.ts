// What the engine concludes about an apply whose answer it lost (the stream broke, or the
// coordinator restarted): the agent's status by revision decides, and the apply is sent again only
// when the agent never ran it. An agent killed mid-apply undoes the transaction at its restart and
// names the interrupted revision in its last result: the step then fails (the node was rolled
// back) instead of the revision being sent again, and again if the agent keeps dying.
import t from 'tap'
import type { AgentClient } from '../../../../coordinator/ports/agent-client.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { recoverStep } from '../../../../coordinator/engine/step-recovery.js'
import type { AgentStatus } from '../../../../shared/schemas/agent-status.js'
import { FakeClock } from '../../../helpers/fake-clock.js'

const node: NodeRef = { cluster: 'c1', name: 'node2', agentUrl: 'https://127.0.0.1:1', minkms: '127.0.0.1:7373' }
const ok = { ok: true, message: 'ok' }

function status (over: Partial<AgentStatus>): AgentStatus {
  return { node: 'node2', unit: { name: 'minkms.service' }, appliedRevision: 1, desiredRevision: 1, applying: false, drift: [], checks: { config: ok, unit: ok, journal: ok }, ...over }
}

/** An agent client that answers the status with `answers` in turn (the last one again after that). */
function agents (answers: Array<AgentStatus | Error>): AgentClient {
  let i = 0
  return {
    status: async () => {
      const a = answers[Math.min(i++, answers.length - 1)]
      if (a instanceof Error) throw a
      if (a === undefined) throw new Error('no answer scripted')
      return a
    }
  } as unknown as AgentClient
}

async function recover (answers: Array<AgentStatus | Error>): Promise<unknown> {
  const clock = new FakeClock()
  const p = recoverStep({ node, revision: 2, agents: agents(answers), clock, pollMs: 100, deadlineMs: 1000, signal: new AbortController().signal })
  const state = { done: false }
  p.finally(() => { state.done = true }).catch(() => {})
  for (let i = 0; i < 100 && !state.done; i++) await clock.advance(100)
  return await p
}

t.test('the interrupted revision undone by the agent: the step has its outcome, rolled back; nothing is sent again', async (t) => {
  const undone = { result: 'rolled-back' as const, revision: 2, changed: true, restarted: true, message: 'apply of revision 2 was interrupted; restored revision 1 (1 file put back)', at: 1 }
  t.same(await recover([status({ lastResult: undone })]), { type: 'step-applied', node: 'node2', outcome: undone })
})

t.test('an agent that never ran the revision: it is sent again', async (t) => {
  const earlier = { result: 'changed' as const, revision: 1, changed: true, restarted: true, message: 'revision 1 applied', at: 1 }
  t.same(await recover([status({ lastResult: earlier })]), { type: 'reapply', node: 'node2' })
})

t.test('a node already on the revision: applied, not sent again', async (t) => {
  t.match(await recover([status({ appliedRevision: 2 })]), { type: 'step-applied', outcome: { result: 'ok', revision: 2, restarted: false } })
})

t.test('an agent still applying, then gone, then answering: asked until it answers', async (t) => {
  const done = { result: 'changed' as const, revision: 2, changed: true, restarted: true, message: 'revision 2 applied', at: 1 }
  t.match(await recover([status({ applying: true }), new Error('connect ECONNREFUSED'), status({ appliedRevision: 2, lastResult: done })]), { type: 'step-applied', outcome: done })
})

t.test('an agent that does not answer within the deadline: the step is lost, saying why', async (t) => {
  t.match(await recover([new Error('connect ECONNREFUSED')]), { type: 'step-lost', node: 'node2', message: /revision 2 is unknown: .*ECONNREFUSED/ })
})
