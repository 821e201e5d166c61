// The agent's Prometheus metrics: one Registry per agent (never prom-client's global one, so
// tests and several cores in one process do not collide) behind a small typed facade. The core
// calls the facade as things happen; GET /metrics renders the registry through core.metrics().
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ApplyOutcome } from '../shared/schemas/apply.js'
import type { Verdict } from '../shared/schemas/verdict.js'

/** Content type of the text exposition format. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE

/** Every apply outcome, so each series exists (at 0) from the start. */
export const APPLY_OUTCOMES: readonly ApplyOutcome[] = ['ok', 'changed', 'failed', 'rolled-back', 'rollback-failed']

/** systemd ActiveState values; anything else is reported as `unknown`. */
export const UNIT_STATES = ['active', 'reloading', 'inactive', 'failed', 'activating', 'deactivating', 'maintenance', 'refreshing', 'unknown'] as const

/** What the core records. All methods are cheap and synchronous; safe to call at any time. */
export interface AgentMetrics {
  /** The registry behind the facade (for collectors the core adds itself). */
  readonly registry: Registry
  /** An apply or rollback finished with `result` (check-mode runs are not counted). */
  recordApply: (result: ApplyOutcome) => void
  /** A restart verdict was reached: observes restart → verdict seconds under `ok`/`failed`. */
  observeVerdict: (verdict: Pick<Verdict, 'ok' | 'timings'>) => void
  /** Whether managed file `file` (logical name: config, env) differs from what the agent wrote. */
  setDrift: (file: string, drifted: boolean) => void
  /** Revision the files are on (last committed apply). */
  setAppliedRevision: (revision: number) => void
  /** Revision last accepted. */
  setDesiredRevision: (revision: number) => void
  /** The unit's ActiveState; undefined when it cannot be read. */
  setUnitState: (activeState: string | undefined) => void
  /** Whether an apply or rollback is running. */
  setApplying: (applying: boolean) => void
  /** The text exposition. */
  render: () => Promise<string>
}

/** Options of {@link createAgentMetrics}. */
export interface AgentMetricsOptions {
  /** Logical names of the managed files; their drift series start at 0. */
  files: readonly string[]
  /** Also export Node process metrics (`keyroll_agent_process_*`, `keyroll_agent_nodejs_*`). */
  processMetrics?: boolean
}

/** Creates the registry and the facade. */
export function createAgentMetrics (opts: AgentMetricsOptions): AgentMetrics {
  const registry = new Registry()
  const applies = new Counter({ name: 'keyroll_agent_applies_total', help: 'Applies and rollbacks by result.', labelNames: ['result'], registers: [registry] })
  const verdict = new Histogram({
    name: 'keyroll_agent_verdict_seconds',
    help: 'Time from restart request to verdict, by verdict result (ok or failed).',
    labelNames: ['result'],
    buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [registry]
  })
  const drift = new Gauge({ name: 'keyroll_agent_drift', help: '1 when a managed file differs from what the agent last wrote.', labelNames: ['file'], registers: [registry] })
  const applied = new Gauge({ name: 'keyroll_agent_applied_revision', help: 'Revision the managed files are on.', registers: [registry] })
  const desired = new Gauge({ name: 'keyroll_agent_desired_revision', help: 'Revision last accepted.', registers: [registry] })
  const unitState = new Gauge({ name: 'keyroll_agent_unit_state', help: '1 for the managed unit\'s current ActiveState, 0 for the others.', labelNames: ['state'], registers: [registry] })
  const applying = new Gauge({ name: 'keyroll_agent_applying', help: '1 while an apply or rollback runs.', registers: [registry] })

  for (const r of APPLY_OUTCOMES) applies.inc({ result: r }, 0)
  for (const f of opts.files) drift.set({ file: f }, 0)
  applied.set(0)
  desired.set(0)
  applying.set(0)
  const setUnitState = (s: string | undefined): void => {
    const current = (UNIT_STATES as readonly string[]).includes(s ?? '') ? s : 'unknown'
    for (const state of UNIT_STATES) unitState.set({ state }, state === current ? 1 : 0)
  }
  setUnitState(undefined)
  if (opts.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'keyroll_agent_' })

  return {
    registry,
    recordApply: result => { applies.inc({ result }) },
    observeVerdict: v => {
      const seconds = Math.max(0, v.timings.verdictAt - v.timings.restartAt) / 1000
      verdict.observe({ result: v.ok ? 'ok' : 'failed' }, seconds)
    },
    setDrift: (file, d) => { drift.set({ file }, d ? 1 : 0) },
    setAppliedRevision: r => { applied.set(r) },
    setDesiredRevision: r => { desired.set(r) },
    setUnitState,
    setApplying: a => { applying.set(a ? 1 : 0) },
    render: async () => await registry.metrics()
  }
}
