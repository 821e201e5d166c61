// Builds an engine over the fakes (memory store, fake cluster, fake clock) and drives it.
import type { Test } from 'tap'
import type { ChangeSpec } from '../../../../shared/change/schema.js'
import { createLogger } from '../../../../shared/logger.js'
import type { Rollout, Strategy } from '../../../../shared/schemas/rollout.js'
import { boxSealer, createEngine, type Engine } from '../../../../coordinator/engine/index.js'
import type { RolloutEngine } from '../../../../coordinator/engine/engine.js'
import { FakeClock } from '../../../helpers/fake-clock.js'
import { clusterConfig, FakeCluster } from './fake-cluster.js'
import { randomBytes } from 'node:crypto'
import { coordinatorBoxWithKey } from '../../../../coordinator/store/coordinator-sealing.js'
import { RecordingStore } from './recording-store.js'

export const SECRET = 'k1:ZXhhbXBsZS1zZWNyZXQtbm90LXJlYWwtMTIzNDU2Nzg5MA'

export const change: ChangeSpec = { revision: 2, files: { config: { set: { 'log.level': 'debug', 'api.key': { $secret: SECRET } } } } }

export interface Harness {
  clock: FakeClock
  cluster: FakeCluster
  store: RecordingStore
  engine: Engine & RolloutEngine
  /** A new engine over the same store and cluster (the old one must be closed first). */
  restart: () => Engine & RolloutEngine
  start: (strategy?: Strategy) => Promise<Rollout>
  /** The rollout as stored now. */
  stored: (id: string) => Rollout
  /** Advances fake time until the stored rollout satisfies `pred`. */
  until: (id: string, pred: (r: Rollout) => boolean, maxMs?: number) => Promise<Rollout>
}

export function harness (t: Test, opts: { nodes?: number, strategy?: Strategy, slotTtlMs?: number } = {}): Harness {
  const clock = new FakeClock()
  const cfg = { ...clusterConfig(opts.nodes ?? 3), ...(opts.strategy === undefined ? {} : { strategy: opts.strategy }) }
  const cluster = new FakeCluster(clock, cfg)
  const store = new RecordingStore()
  const box = coordinatorBoxWithKey(randomBytes(32))
  const log = createLogger({ level: 'silent' })
  let n = 0
  const make = (): Engine & RolloutEngine => {
    const e = createEngine({ store, agents: cluster, probe: cluster, clock, log, sealer: boxSealer(box), fingerprintKey: box.derive('plan fingerprints'), clusters: [cfg], pollMs: 1000, slotTtlMs: opts.slotTtlMs ?? 60_000, newId: () => `id-${++n}` })
    t.teardown(async () => { await e.close() })
    return e
  }
  const h: Harness = {
    clock,
    cluster,
    store,
    engine: make(),
    restart: () => { h.engine = make(); return h.engine },
    start: async (strategy) => {
      const plan = await h.engine.plan('c1', change, 'alice')
      return await h.engine.start({ cluster: 'c1', change, planHash: plan.planHash, actor: 'alice', ...(strategy === undefined ? {} : { strategy }) })
    },
    stored: (id) => {
      const s = store.rollouts.get(id)
      if (s === undefined) throw new Error(`no rollout ${id}`)
      return s.rollout
    },
    until: async (id, pred, maxMs = 600_000) => {
      await clock.advanceUntil(() => pred(h.stored(id)), { stepMs: 500, maxMs })
      return h.stored(id)
    }
  }
  return h
}

export const terminal = (r: Rollout): boolean => ['succeeded', 'failed', 'aborted', 'reverted'].includes(r.state)
export const step = (r: Rollout, node: string): Rollout['nodes'][number] => {
  const s = r.nodes.find((x) => x.node === node)
  if (s === undefined) throw new Error(`no step ${node}`)
  return s
}
