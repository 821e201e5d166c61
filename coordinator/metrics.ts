// The coordinator's Prometheus metrics: one Registry per app (never prom-client's global one, so
// tests and several apps in one process do not collide). Rollouts and steps by state are counted
// when scraped, from what RolloutControl lists, so they can never disagree with the API; request
// latency is observed per route pattern (never the raw URL: ids would make a series per request).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { RolloutStateSchema, StepStateSchema, type Rollout } from '../shared/schemas/rollout.js'

/** Content type of the text exposition format. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE

const ROLLOUT_STATES = RolloutStateSchema.enum as readonly string[]
const STEP_STATES = StepStateSchema.enum as readonly string[]

/** What the app records. */
export interface CoordinatorMetrics {
  readonly registry: Registry
  /** One API request answered. */
  observeRequest: (method: string, route: string, status: number, seconds: number) => void
  /** An event stream opened (+1) or closed (-1). */
  streams: (delta: 1 | -1) => void
  render: () => Promise<string>
}

/** Options of {@link createCoordinatorMetrics}. */
export interface CoordinatorMetricsOptions {
  /** The rollouts to count at scrape time (newest first, bounded). */
  rollouts: () => Promise<readonly Rollout[]>
  /** Also export Node process metrics (`keyroll_coordinator_process_*`). */
  processMetrics?: boolean
}

export function createCoordinatorMetrics (opts: CoordinatorMetricsOptions): CoordinatorMetrics {
  const registry = new Registry()
  const requests = new Histogram({
    name: 'keyroll_coordinator_http_request_duration_seconds',
    help: 'API request latency by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  const errors = new Counter({ name: 'keyroll_coordinator_http_errors_total', help: 'API answers with a 4xx or 5xx status, by status class.', labelNames: ['class'], registers: [registry] })
  errors.inc({ class: '4xx' }, 0)
  errors.inc({ class: '5xx' }, 0)
  const streams = new Gauge({ name: 'keyroll_coordinator_event_streams', help: 'Rollout event streams open now.', registers: [registry] })
  streams.set(0)
  // Collected at scrape: both gauges from one listing.
  let pending: Promise<readonly Rollout[]> | undefined
  const listing = async (): Promise<readonly Rollout[]> => {
    pending ??= opts.rollouts().finally(() => { pending = undefined })
    return await pending
  }
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'keyroll_coordinator_rollouts',
    help: 'Rollouts by state (the most recent ones the store lists).',
    labelNames: ['state'],
    registers: [registry],
    async collect () {
      const all = await listing()
      for (const s of ROLLOUT_STATES) this.set({ state: s }, all.filter(r => r.state === s).length)
    }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'keyroll_coordinator_steps',
    help: 'Node steps of those rollouts by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect () {
      const all = await listing()
      for (const s of STEP_STATES) this.set({ state: s }, all.reduce((n, r) => n + r.nodes.filter(x => x.state === s).length, 0))
    }
  })
  if (opts.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'keyroll_coordinator_' })
  return {
    registry,
    observeRequest: (method, route, status, seconds) => {
      requests.observe({ method, route, status: String(status) }, seconds)
      if (status >= 400) errors.inc({ class: status >= 500 ? '5xx' : '4xx' })
    },
    streams: d => { streams.inc(d) },
    render: async () => await registry.metrics()
  }
}
