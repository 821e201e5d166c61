// Answers of the coordinator's API, as the stand-in serves them.
import type { ClusterView, NodeHealth } from '../../../../shared/schemas/cluster.js'
import type { ClusterPlan, NodeStep, Rollout, RolloutEvent } from '../../../../shared/schemas/rollout.js'
import type { Verdict } from '../../../../shared/schemas/verdict.js'

export const AT = Date.UTC(2026, 11, 2, 10, 0, 0)

export function node (name: string, healthy = true): NodeHealth {
  return {
    cluster: 'prod',
    node: name,
    agentUrl: `https://${name}:7400`,
    minkms: `${name}:7373`,
    agent: healthy ? { reachable: true, ready: true } : { reachable: false, error: 'connect ECONNREFUSED' },
    ...(healthy ? { unit: { activeState: 'active', subState: 'running' }, minkmsReady: true, drift: false, appliedRevision: 3, desiredRevision: 3 } : {}),
    healthy
  }
}

export function cluster (): ClusterView {
  return { name: 'prod', healthy: false, nodes: [node('node1'), node('node2', false)] }
}

export function plan (): ClusterPlan {
  const diff = '--- /etc/minkms/config.yaml\n+++ /etc/minkms/config.yaml\n@@ -1 +1 @@\n-log: info\n+log: debug\n'
  return {
    cluster: 'prod',
    revision: 4,
    planHash: 'sha256-5f1c0ffee',
    change: { revision: 4, files: { config: { set: { log: 'debug' }, delete: [] } }, restart: 'on-change', verify: { deadline: '60s', stableFor: '5s' } } as unknown as ClusterPlan['change'],
    nodes: ['node1', 'node2'].map(n => ({ node: n, appliedRevision: 3, plan: { revision: 4, changed: true, restart: true, files: [{ name: 'config', path: '/etc/minkms/config.yaml', changed: true, diff }] } }))
  }
}

export function rollout (state: Rollout['state'], steps: Array<Partial<NodeStep> & { node: string }> = [{ node: 'node1' }, { node: 'node2' }], message?: string): Rollout {
  return {
    id: 'r-42',
    cluster: 'prod',
    revision: 4,
    planHash: 'sha256-5f1c0ffee',
    change: plan().change,
    strategy: { maxParallel: 1, canary: false, healthyDeadlineMs: 120000, progressDeadlineMs: 600000, minHealthyTimeMs: 5000, failureBudget: 0, autoRevert: false, onUnhealthy: 'wait' },
    state,
    createdBy: 'alice',
    createdAt: AT,
    updatedAt: AT + 60000,
    nodes: steps.map(s => ({ state: 'pending', ...s })),
    ...(message === undefined ? {} : { message })
  }
}

export const FAILED_VERDICT = {
  ok: false,
  reason: 'fatal-line',
  summary: 'minkms logged a fatal line after the restart',
  lines: [{ at: AT + 30000, kind: 'fatal', message: 'FATAL: cannot open HSM: no such slot' }]
} as unknown as Verdict

/** The events of a rollout over two nodes that ends `end`. */
export function events (end: 'succeeded' | 'failed'): RolloutEvent[] {
  const e: Array<Omit<RolloutEvent, 'index'>> = [
    { at: AT, type: 'rollout', message: 'rollout running', data: { state: 'running' } },
    { at: AT + 1000, type: 'step', node: 'node1', message: 'applying revision 4', data: { state: 'applying' } },
    { at: AT + 2000, type: 'apply', node: 'node1', message: 'restart: started' },
    { at: AT + 3000, type: 'journal', node: 'node1', message: 'minkms: listening on :7373' },
    { at: AT + 4000, type: 'gate', node: 'node1', message: 'client round trip ok in 12 ms' },
    { at: AT + 5000, type: 'step', node: 'node1', message: 'node1 done', data: { state: 'done' } },
    { at: AT + 6000, type: 'step', node: 'node2', message: 'applying revision 4', data: { state: 'applying' } },
    { at: AT + 7000, type: 'journal', node: 'node2', message: end === 'succeeded' ? 'minkms: listening on :7373' : 'FATAL: cannot open HSM: no such slot' }
  ]
  if (end === 'succeeded') {
    e.push({ at: AT + 8000, type: 'step', node: 'node2', message: 'node2 done', data: { state: 'done' } })
    e.push({ at: AT + 9000, type: 'rollout', message: 'rollout succeeded', data: { state: 'succeeded' } })
  } else {
    e.push({ at: AT + 8000, type: 'verdict', node: 'node2', message: 'verdict: minkms logged a fatal line after the restart' })
    e.push({ at: AT + 8500, type: 'step', node: 'node2', message: 'node2 failed; rolled back by its agent', data: { state: 'failed' } })
    e.push({ at: AT + 9000, type: 'rollout', message: 'rollout failed: node2 failed its verdict', data: { state: 'failed' } })
  }
  return e.map((x, index) => ({ index, ...x }))
}
