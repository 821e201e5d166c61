// The rollout state machine, as tables: (rollout, input) → (state, step states, effects). No I/O.
import t from 'tap'
import { transition } from '../../../../coordinator/engine/machine.js'
import type { Effect, Input, StepOutcome } from '../../../../coordinator/engine/machine-types.js'
import type { GateResult, NodeStep, ResolvedStrategy, Rollout, StepState } from '../../../../shared/schemas/rollout.js'
import type { Verdict } from '../../../../shared/schemas/verdict.js'

const NOW = 1_000_000
const strategy: ResolvedStrategy = { maxParallel: 1, canary: false, healthyDeadlineMs: 120_000, progressDeadlineMs: 600_000, minHealthyTimeMs: 5000, failureBudget: 0, autoRevert: false, onUnhealthy: 'wait' }

function rollout (state: Rollout['state'], steps: Array<StepState | Partial<NodeStep>>, s: Partial<ResolvedStrategy> = {}, extra: Partial<Rollout> = {}): Rollout {
  return {
    id: 'r1',
    cluster: 'c1',
    revision: 2,
    planHash: 'h',
    change: { revision: 2, files: {}, restart: 'on-change', verify: { deadline: '60s', stableFor: '5s' }, redacted: true },
    strategy: { ...strategy, ...s },
    state,
    createdBy: 'alice',
    createdAt: 0,
    updatedAt: 0,
    nodes: steps.map((x, i) => typeof x === 'string' ? { node: `n${i + 1}`, state: x } : { node: `n${i + 1}`, state: 'pending', ...x }),
    ...extra
  }
}

const verdict = (ok: boolean): Verdict => ({ ok, reason: ok ? 'ready' : 'fatal-line', summary: ok ? 'ready' : 'fatal line', baseline: { cursor: 'c', invocationId: 'a', nRestarts: 0, takenAt: 0 }, invocationId: 'b', lines: [], timings: { restartAt: 0, verdictAt: 0 } })
const outcome = (result: StepOutcome['result'], ok = true): StepOutcome => ({ result, revision: 2, restarted: true, message: `agent says ${result}`, verdict: verdict(ok) })
const gate = (ok: boolean): GateResult => ({ ok, message: ok ? 'passed' : 'did not rejoin' })
const preparing: Partial<NodeStep> = { state: 'pending', startedAt: NOW - 1000 }
const done: Partial<NodeStep> = { state: 'done', gate: gate(true), finishedAt: NOW - 10 }

/** Effects other than emit/audit, as `type:node`. */
function acts (effects: Effect[]): string[] {
  return effects.filter((e) => e.type !== 'emit' && e.type !== 'audit').map((e) => 'node' in e ? `${e.type}:${e.node}` : e.type === 'wait' ? `wait:${e.then.type}` : e.type)
}

interface Row { name: string, r: Rollout, input: Input, state: Rollout['state'], steps: StepState[], effects: string[], refused?: boolean, audit?: string[] }

const rows: Row[] = [
  { name: 'start: running, prepares the first node only', r: rollout('pending', ['pending', 'pending', 'pending']), input: { type: 'start', actor: 'a' }, state: 'running', steps: ['pending', 'pending', 'pending'], effects: ['prepare-step:n1'] },
  { name: 'start twice is refused', r: rollout('running', ['pending']), input: { type: 'start', actor: 'a' }, state: 'running', steps: ['pending'], effects: [], refused: true },
  { name: 'maxParallel 2 prepares two nodes', r: rollout('pending', ['pending', 'pending', 'pending'], { maxParallel: 2 }), input: { type: 'start', actor: 'a' }, state: 'running', steps: ['pending', 'pending', 'pending'], effects: ['prepare-step:n1', 'prepare-step:n2'] },
  { name: 'canary limits to one node until the first is done', r: rollout('pending', ['pending', 'pending', 'pending'], { maxParallel: 2, canary: true }), input: { type: 'start', actor: 'a' }, state: 'running', steps: ['pending', 'pending', 'pending'], effects: ['prepare-step:n1'] },
  { name: 'prepared: applying, apply sent', r: rollout('running', [preparing, 'pending']), input: { type: 'step-prepared', node: 'n1', cursor: 'c1', invocationBefore: 'inv' }, state: 'running', steps: ['applying', 'pending'], effects: ['apply:n1'] },
  { name: 'prepared while paused: back to pending, nothing sent', r: rollout('paused', [preparing, 'pending']), input: { type: 'step-prepared', node: 'n1' }, state: 'paused', steps: ['pending', 'pending'], effects: [] },
  { name: 'blocked (wait policy): wait, then retry', r: rollout('running', [preparing]), input: { type: 'blocked', node: 'n1', reason: 'unhealthy', message: 'n2 down' }, state: 'running', steps: ['pending'], effects: ['wait:retry-prepare'] },
  { name: 'blocked (pause policy): paused', r: rollout('running', [preparing], { onUnhealthy: 'pause' }), input: { type: 'blocked', node: 'n1', reason: 'unhealthy', message: 'n2 down' }, state: 'paused', steps: ['pending'], effects: [] },
  { name: 'blocked by a slot waits even with the pause policy', r: rollout('running', [preparing], { onUnhealthy: 'pause' }), input: { type: 'blocked', node: 'n1', reason: 'slot', message: 'n2 converging' }, state: 'running', steps: ['pending'], effects: ['wait:retry-prepare'] },
  { name: 'blocked past progressDeadline: halted, failed', r: rollout('running', [{ state: 'pending', startedAt: NOW - 700_000 }, 'pending'], {}), input: { type: 'blocked', node: 'n1', reason: 'unhealthy', message: 'n2 down' }, state: 'failed', steps: ['skipped', 'skipped'], effects: ['finish'], audit: ['rollout.finish'] },
  { name: 'changed + verdict ok: gating', r: rollout('running', ['applying']), input: { type: 'step-applied', node: 'n1', outcome: outcome('changed') }, state: 'running', steps: ['gating'], effects: ['gate:n1'] },
  { name: 'ok without restart: gating', r: rollout('running', ['applying']), input: { type: 'step-applied', node: 'n1', outcome: { result: 'ok', revision: 2, restarted: false, message: 'no change' } }, state: 'running', steps: ['gating'], effects: ['gate:n1'] },
  { name: 'rolled-back: failed, halted (budget 0)', r: rollout('running', ['done', 'applying', 'pending']), input: { type: 'step-applied', node: 'n2', outcome: outcome('rolled-back', false) }, state: 'failed', steps: ['done', 'failed', 'skipped'], effects: ['stop-follow:n2', 'finish'], audit: ['rollout.finish'] },
  { name: 'changed but verdict not ok: failed', r: rollout('running', ['applying']), input: { type: 'step-applied', node: 'n1', outcome: outcome('changed', false) }, state: 'failed', steps: ['failed'], effects: ['stop-follow:n1', 'finish'], audit: ['rollout.finish'] },
  { name: 'failed within budget 1: the next node', r: rollout('running', ['applying', 'pending'], { failureBudget: 1 }), input: { type: 'step-applied', node: 'n1', outcome: outcome('failed', false) }, state: 'running', steps: ['failed', 'pending'], effects: ['stop-follow:n1', 'prepare-step:n2'] },
  { name: 'failure with auto-revert: the done nodes are rolled back', r: rollout('running', [done, done, 'applying'], { autoRevert: true }), input: { type: 'step-applied', node: 'n3', outcome: outcome('rolled-back', false) }, state: 'reverting', steps: ['done', 'reverting', 'failed'], effects: ['stop-follow:n3', 'rollback-node:n2'] },
  { name: 'apply stream broke: recover', r: rollout('running', ['applying']), input: { type: 'apply-error', node: 'n1', message: 'socket hang up' }, state: 'running', steps: ['applying'], effects: ['recover-step:n1'] },
  { name: 'apply refused by the agent: failed, no recovery', r: rollout('running', ['applying', 'pending']), input: { type: 'apply-refused', node: 'n1', message: 'AGT_STALE_REVISION: revision 1 is older than the applied revision 2' }, state: 'failed', steps: ['failed', 'skipped'], effects: ['stop-follow:n1', 'finish'], audit: ['rollout.finish'] },
  { name: 'never received: reapply', r: rollout('running', ['applying']), input: { type: 'reapply', node: 'n1' }, state: 'running', steps: ['applying'], effects: ['apply:n1'] },
  { name: 'lost: failed', r: rollout('running', ['applying']), input: { type: 'step-lost', node: 'n1', message: 'agent gone' }, state: 'failed', steps: ['failed'], effects: ['stop-follow:n1', 'finish'], audit: ['rollout.finish'] },
  { name: 'gate passed: healthy, hold', r: rollout('running', ['gating']), input: { type: 'gate-result', node: 'n1', gate: gate(true) }, state: 'running', steps: ['healthy'], effects: ['stop-follow:n1', 'hold:n1'] },
  { name: 'gate failed: reverting the node', r: rollout('running', ['gating', 'pending']), input: { type: 'gate-result', node: 'n1', gate: gate(false) }, state: 'running', steps: ['reverting', 'pending'], effects: ['stop-follow:n1', 'rollback-node:n1'] },
  { name: 'gate-failed node rolled back: failed, halted', r: rollout('running', [{ state: 'reverting', gate: gate(false) }, 'pending']), input: { type: 'node-rolled-back', node: 'n1', ok: true, message: 'back' }, state: 'failed', steps: ['failed', 'skipped'], effects: ['finish'], audit: ['rollout.finish'] },
  { name: 'held healthy: done, next node', r: rollout('running', ['healthy', 'pending']), input: { type: 'min-healthy-elapsed', node: 'n1', ok: true, message: 'ready' }, state: 'running', steps: ['done', 'pending'], effects: ['prepare-step:n2'] },
  { name: 'held healthy, last node: succeeded', r: rollout('running', ['done', 'healthy']), input: { type: 'min-healthy-elapsed', node: 'n2', ok: true, message: 'ready' }, state: 'succeeded', steps: ['done', 'done'], effects: ['finish'], audit: ['rollout.finish'] },
  { name: 'did not stay healthy: reverting', r: rollout('running', ['healthy']), input: { type: 'min-healthy-elapsed', node: 'n1', ok: false, message: 'not ready' }, state: 'running', steps: ['reverting'], effects: ['rollback-node:n1'] },
  { name: 'canary done: awaiting promotion', r: rollout('running', ['healthy', 'pending'], { canary: true }), input: { type: 'min-healthy-elapsed', node: 'n1', ok: true, message: 'ready' }, state: 'awaiting-promotion', steps: ['done', 'pending'], effects: [] },
  { name: 'promote: the others', r: rollout('awaiting-promotion', ['done', 'pending', 'pending'], { canary: true, maxParallel: 2 }), input: { type: 'promote', actor: 'b' }, state: 'running', steps: ['done', 'pending', 'pending'], effects: ['prepare-step:n2', 'prepare-step:n3'], audit: ['rollout.promote'] },
  { name: 'promote a running rollout: refused', r: rollout('running', ['pending']), input: { type: 'promote', actor: 'b' }, state: 'running', steps: ['pending'], effects: [], refused: true },
  { name: 'pause: paused, in flight continues', r: rollout('running', ['applying', 'pending']), input: { type: 'pause', actor: 'b' }, state: 'paused', steps: ['applying', 'pending'], effects: [], audit: ['rollout.pause'] },
  { name: 'step done while paused: nothing starts', r: rollout('paused', ['healthy', 'pending']), input: { type: 'min-healthy-elapsed', node: 'n1', ok: true, message: 'ready' }, state: 'paused', steps: ['done', 'pending'], effects: [] },
  { name: 'resume: next node', r: rollout('paused', ['done', 'pending']), input: { type: 'resume', actor: 'b' }, state: 'running', steps: ['done', 'pending'], effects: ['prepare-step:n2'], audit: ['rollout.resume'] },
  { name: 'resume a finished rollout: refused', r: rollout('succeeded', ['done']), input: { type: 'resume', actor: 'b' }, state: 'succeeded', steps: ['done'], effects: [], refused: true },
  { name: 'abort with a step in flight: others skipped, still running', r: rollout('running', ['applying', 'pending', 'pending']), input: { type: 'abort', actor: 'b' }, state: 'running', steps: ['applying', 'skipped', 'skipped'], effects: [], audit: ['rollout.abort'] },
  { name: 'aborted step in flight finishes: aborted', r: rollout('running', ['healthy', 'skipped'], {}, { stop: { kind: 'abort', at: 0, message: 'aborted by b' } }), input: { type: 'min-healthy-elapsed', node: 'n1', ok: true, message: 'ok' }, state: 'aborted', steps: ['done', 'skipped'], effects: ['finish'], audit: ['rollout.finish'] },
  { name: 'abort a paused rollout: aborted at once', r: rollout('paused', ['done', 'pending']), input: { type: 'abort', actor: 'b' }, state: 'aborted', steps: ['done', 'skipped'], effects: ['finish'], audit: ['rollout.abort', 'rollout.finish'] },
  { name: 'rollback a succeeded rollout: last node first', r: rollout('succeeded', [done, done]), input: { type: 'rollback', actor: 'b' }, state: 'reverting', steps: ['done', 'reverting'], effects: ['rollback-node:n2'], audit: ['rollout.rollback'] },
  { name: 'reverted node: the next one', r: rollout('reverting', [done, { ...done, state: 'reverting' }]), input: { type: 'node-rolled-back', node: 'n2', ok: true, message: 'back' }, state: 'reverting', steps: ['reverting', 'reverted'], effects: ['rollback-node:n1'] },
  { name: 'last node reverted: reverted', r: rollout('reverting', [{ ...done, state: 'reverting' }, 'reverted']), input: { type: 'node-rolled-back', node: 'n1', ok: true, message: 'back' }, state: 'reverted', steps: ['reverted', 'reverted'], effects: ['finish'], audit: ['rollout.finish'] },
  { name: 'rollback while a step is in flight: waits for it', r: rollout('running', [done, 'applying', 'pending']), input: { type: 'rollback', actor: 'b' }, state: 'reverting', steps: ['done', 'applying', 'skipped'], effects: [], audit: ['rollout.rollback'] },
  { name: 'resumed: each step in flight gets its effect', r: rollout('running', ['done', 'applying', 'gating', 'healthy', 'reverting', preparing], { maxParallel: 9 }), input: { type: 'resumed' }, state: 'running', steps: ['done', 'applying', 'gating', 'healthy', 'reverting', 'pending'], effects: ['recover-step:n2', 'gate:n3', 'hold:n4', 'rollback-node:n5', 'prepare-step:n6'] },
  { name: 'resumed between nodes: the next one', r: rollout('running', ['done', 'pending']), input: { type: 'resumed' }, state: 'running', steps: ['done', 'pending'], effects: ['prepare-step:n2'] },
  { name: 'an input for another state is ignored', r: rollout('running', ['gating']), input: { type: 'step-applied', node: 'n1', outcome: outcome('changed') }, state: 'running', steps: ['gating'], effects: [] }
]

for (const row of rows) {
  t.test(row.name, async t => {
    const before = structuredClone(row.r)
    const out = transition(row.r, row.input, NOW, { pollMs: 1000 })
    t.same(row.r, before, 'the input rollout is not modified')
    t.equal(out.refused !== undefined, row.refused === true, out.refused ?? 'not refused')
    t.equal(out.rollout.state, row.state)
    t.same(out.rollout.nodes.map((s) => s.state), row.steps)
    t.same(acts(out.effects), row.effects)
    t.same(out.effects.filter((e) => e.type === 'audit').map((e) => e.type === 'audit' ? e.action : ''), row.audit ?? [])
    // Every step state change is told as an event.
    const changed = out.rollout.nodes.filter((s, i) => s.state !== row.r.nodes[i]?.state).map((s) => s.node)
    const told = out.effects.filter((e) => e.type === 'emit' && e.event.type === 'step').map((e) => e.type === 'emit' ? e.event.node : '')
    for (const n of changed) t.ok(told.includes(n), `${n}'s change is an event`)
  })
}

t.test('failure messages name the node, the agent\'s message and the verdict', async t => {
  const out = transition(rollout('running', ['done', 'applying', 'pending']), { type: 'step-applied', node: 'n2', outcome: outcome('rolled-back', false) }, NOW)
  t.match(out.rollout.message, /halted: n2 failed: agent: rolled-back: agent says rolled-back; verdict: fatal line/)
  t.ok(out.effects.some((e) => e.type === 'emit' && e.event.type === 'verdict' && e.event.node === 'n2'))
})

t.test('a verdict the agent\'s message already quotes is said once', async t => {
  const o = outcome('rolled-back', false)
  const quoting = { ...o, message: `did not come back: ${o.verdict?.summary ?? ''}; restored revision 1` }
  const out = transition(rollout('running', ['done', 'applying', 'pending']), { type: 'step-applied', node: 'n2', outcome: quoting }, NOW)
  const message = out.rollout.nodes[1]?.message ?? ''
  t.equal(message.split(o.verdict?.summary ?? '?').length - 1, 1, message)
})

t.test('a waiting step tells why once, not per poll', async t => {
  const r = rollout('running', [preparing])
  const a = transition(r, { type: 'blocked', node: 'n1', reason: 'unhealthy', message: 'n2 down' }, NOW)
  const b = transition(a.rollout, { type: 'blocked', node: 'n1', reason: 'unhealthy', message: 'n2 down' }, NOW + 1000)
  t.equal(a.effects.filter((e) => e.type === 'emit').length, 1)
  t.equal(b.effects.filter((e) => e.type === 'emit').length, 0)
})
