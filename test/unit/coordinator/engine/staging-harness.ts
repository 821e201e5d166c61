// The engine over FakeAgentClient nodes (which stage, commit and discard changes like agents do)
// and FakeClusterProbe minkms, with a fake clock: what the staging tests drive. The engine's other
// tests use FakeCluster, which cannot stage, so their nodes are applied the ordinary way.
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { ChangeSpec } from '../../../../shared/change/schema.js'
import { createLogger } from '../../../../shared/logger.js'
import type { Rollout, RolloutEvent, Strategy } from '../../../../shared/schemas/rollout.js'
import { FakeAgentClient } from '../../../../coordinator/agents/fake-agent-client.js'
import type { RolloutEngine } from '../../../../coordinator/engine/engine.js'
import { boxSealer, createEngine, type Engine } from '../../../../coordinator/engine/index.js'
import { FakeClusterProbe } from '../../../../coordinator/gate/fake-cluster-probe.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { coordinatorBoxWithKey } from '../../../../coordinator/store/coordinator-sealing.js'
import { FakeClock } from '../../../helpers/fake-clock.js'
import { clusterConfig } from './fake-cluster.js'
import { RecordingStore } from './recording-store.js'

export const SECRET = 'k1:ZXhhbXBsZS1zZWNyZXQtbm90LXJlYWwtMTIzNDU2Nzg5MA'
export const change: ChangeSpec = { revision: 2, files: { config: { set: { 'log.level': 'debug', 'api.key': { $secret: SECRET } } } } }

export interface StagingHarness {
  clock: FakeClock
  agents: FakeAgentClient
  store: RecordingStore
  engine: Engine & RolloutEngine
  /** Closes the engine (as a kill looks to the store) and resumes its rollouts in a new one. */
  restart: () => Promise<void>
  nodes: NodeRef[]
  node: (name: string) => NodeRef
  start: (strategy?: Strategy) => Promise<Rollout>
  stored: (id: string) => Rollout
  until: (id: string, pred: (r: Rollout) => boolean) => Promise<Rollout>
  /** Advances fake time until `done()`. */
  waitFor: (done: () => boolean) => Promise<void>
  /** The ops the fake received, as `node op` strings. */
  calls: (...ops: string[]) => string[]
  events: (id: string) => RolloutEvent[]
  /** The `via` of each node's `applying` event, by node. */
  via: (id: string) => Record<string, unknown>
}

export function stagingHarness (t: Test, opts: { nodes?: number, staging?: false } = {}): StagingHarness {
  const clock = new FakeClock()
  const cfg = clusterConfig(opts.nodes ?? 3)
  const nodes: NodeRef[] = cfg.nodes.map((n) => ({ cluster: cfg.name, name: n.name, agentUrl: n.agent, minkms: n.minkms }))
  const agents = new FakeAgentClient(clock)
  for (const n of nodes) agents.addNode(n, { revision: 1 })
  const probe = new FakeClusterProbe().addCluster(nodes)
  const store = new RecordingStore()
  const box = coordinatorBoxWithKey(randomBytes(32))
  let n = 0
  const make = (): Engine & RolloutEngine => {
    const log = createLogger({ level: 'silent' })
    const staging = opts.staging === false ? { staging: false as const } : {}
    const e = createEngine({ store, agents, probe, clock, log, sealer: boxSealer(box), fingerprintKey: box.derive('plan fingerprints'), clusters: [cfg], pollMs: 1000, newId: () => `id-${++n}`, ...staging })
    t.teardown(async () => { await e.close() })
    return e
  }
  const h: StagingHarness = {
    clock,
    agents,
    store,
    engine: make(),
    restart: async () => {
      await h.engine.close()
      h.engine = make()
      await h.engine.resumeAll()
    },
    nodes,
    node: (name) => {
      const ref = nodes.find((x) => x.name === name)
      if (ref === undefined) throw new Error(`no node ${name}`)
      return ref
    },
    start: async (strategy) => {
      const plan = await h.engine.plan('c1', change, 'alice')
      return await h.engine.start({ cluster: 'c1', change, planHash: plan.planHash, actor: 'alice', strategy: { minHealthyTime: '1s', ...strategy } })
    },
    stored: (id) => {
      const s = store.rollouts.get(id)
      if (s === undefined) throw new Error(`no rollout ${id}`)
      return s.rollout
    },
    until: async (id, pred) => {
      await clock.advanceUntil(() => pred(h.stored(id)), { stepMs: 250, maxMs: 600_000 })
      return h.stored(id)
    },
    waitFor: async (done) => { await clock.advanceUntil(done, { stepMs: 250, maxMs: 600_000 }) },
    calls: (...ops) => agents.calls.filter((c) => ops.length === 0 || ops.includes(c.op)).map((c) => `${c.node} ${c.op}`),
    events: (id) => store.eventLog.get(id) ?? [],
    via: (id) => Object.fromEntries(h.events(id)
      .filter((e) => e.type === 'step' && (e.data as { state?: string }).state === 'applying')
      .map((e) => [e.node, (e.data as { via?: unknown }).via]))
  }
  return h
}

export const terminal = (r: Rollout): boolean => ['succeeded', 'failed', 'aborted', 'reverted'].includes(r.state)

/** A promise and its resolve, for the fake's `hold` scripts. */
export function gate (): { promise: Promise<void>, open: () => void } {
  let open = (): void => {}
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}
