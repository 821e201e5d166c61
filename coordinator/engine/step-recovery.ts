// The two node operations that must not happen twice: an apply whose answer was lost (stream
// broke, coordinator crashed) and a rollback. Both ask the agent's status first. The agent keeps
// its last result by revision: when it ran our revision, its result is taken (never re-sent: an
// already-applied revision would be a no-op, but a rolled-back one would be retried and restart
// the node again); while it is still applying, it is polled until it is not; only when it never
// got our revision is the apply sent again. A rollback is skipped when the node is already below
// our revision.
import type { Clock } from '../../shared/clock.js'
import type { ApplyEvent } from '../../shared/schemas/apply.js'
import type { AgentClient } from '../ports/agent-client.js'
import type { NodeRef } from '../ports/node-ref.js'
import { agentAnswerText, errorText } from './error-text.js'
import type { Input } from './machine-types.js'

/** One node's step, as these operations see it. */
export interface StepContext {
  node: NodeRef
  revision: number
  agents: AgentClient
  clock: Clock
  pollMs: number
  /** How long to keep asking an agent that does not answer. */
  deadlineMs: number
  signal: AbortSignal
}

/** Finds out what became of the apply of `revision`: step-applied, reapply or step-lost. */
export async function recoverStep (c: StepContext): Promise<Input> {
  const node = c.node.name
  const deadline = c.clock.now() + c.deadlineMs
  let last = 'no answer yet'
  for (;;) {
    try {
      const s = await c.agents.status(c.node, { signal: c.signal })
      if (!s.applying) {
        const r = s.lastResult
        if (r !== undefined && r.revision === c.revision) return { type: 'step-applied', node, outcome: r }
        if (s.appliedRevision === c.revision) {
          return { type: 'step-applied', node, outcome: { result: 'ok', revision: c.revision, restarted: false, message: `the node is already on revision ${s.appliedRevision}` } }
        }
        // On a newer revision than ours: someone else changed the node (the agent refuses ours).
        if (s.appliedRevision > c.revision) {
          return { type: 'step-lost', node, message: `the node is on revision ${s.appliedRevision}, newer than this rollout's revision ${c.revision}: another change reached it; revision ${c.revision} was not applied` }
        }
        return { type: 'reapply', node }
      }
      last = 'the agent is still applying'
    } catch (err) {
      c.signal.throwIfAborted()
      last = errorText(err)
    }
    if (c.clock.now() > deadline) return { type: 'step-lost', node, message: `what became of revision ${c.revision} is unknown: ${last}` }
    await c.clock.sleep(c.pollMs, c.signal)
  }
}

/** Rolls the node back to its previous revision unless it is already below `revision`. */
export async function rollbackNode (c: StepContext, onEvent: (e: ApplyEvent) => void): Promise<{ ok: boolean, message: string }> {
  const deadline = c.clock.now() + c.deadlineMs
  let last = ''
  for (;;) {
    try {
      const s = await c.agents.status(c.node, { signal: c.signal })
      if (!s.applying) {
        if (s.appliedRevision < c.revision) return { ok: true, message: `the node is on revision ${s.appliedRevision}` }
        const r = await c.agents.rollback(c.node, { signal: c.signal, onEvent })
        return { ok: r.result === 'ok' || r.result === 'changed', message: agentAnswerText(r) }
      }
      last = 'the agent is applying'
    } catch (err) {
      c.signal.throwIfAborted()
      last = errorText(err)
    }
    if (c.clock.now() > deadline) return { ok: false, message: `the agent could not roll back: ${last}` }
    await c.clock.sleep(c.pollMs, c.signal)
  }
}
