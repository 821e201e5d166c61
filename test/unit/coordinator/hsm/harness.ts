// The orchestrator over fakes: the real rollout engine on the in-memory stores, FakeAgentClient
// nodes, FakeClusterProbe minkms, the in-memory external Key Manager (FakeMinkmsApi) and a fake
// clock. `restart()` builds a new engine and orchestrator over the same stores and nodes, as a
// coordinator killed and started again would.
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { createLogger } from '../../../../shared/logger.js'
import { FakeMinkmsApi } from '../../../../shared/minkms/fake-minkms-api.js'
import { generateApiKey } from '../../../../shared/minkms/keys.js'
import type { HsmMigration } from '../../../../shared/schemas/hsm-migration.js'
import { Secret } from '../../../../shared/secrets/secret.js'
import { FakeAgentClient } from '../../../../coordinator/agents/fake-agent-client.js'
import type { ClusterConfig } from '../../../../coordinator/config-schema.js'
import { boxSealer, createEngine, type Engine } from '../../../../coordinator/engine/index.js'
import type { RolloutEngine } from '../../../../coordinator/engine/engine.js'
import { FakeClusterProbe } from '../../../../coordinator/gate/fake-cluster-probe.js'
import { externalKmsOver } from '../../../../coordinator/hsm/external-kms.js'
import { HsmMigrationOrchestrator } from '../../../../coordinator/hsm/orchestrator.js'
import type { RootKeyAdopter } from '../../../../coordinator/hsm/migration-runner.js'
import type { HsmMigrationStart } from '../../../../coordinator/ports/hsm-migration-control.js'
import type { NodeRef } from '../../../../coordinator/ports/node-ref.js'
import { coordinatorBoxWithKey } from '../../../../coordinator/store/coordinator-sealing.js'
import type { HsmMigrationStore } from '../../../../coordinator/store/hsm-migration-store.js'
import { MemoryHsmMigrationStore } from '../../../../coordinator/store/memory-hsm-migration-store.js'
import { MemoryRolloutStore } from '../../../../coordinator/store/memory-rollout-store.js'
import type { RolloutStore } from '../../../../coordinator/store/rollout-store.js'
import { FakeClock } from '../../../helpers/fake-clock.js'

export const EXTERNAL = ['kms0:7373', 'kms1:7373']
export const BOTH = { configured: ['hsm:minio:soft', 'hsm:minio:minkms'], sealed: ['hsm:minio:soft', 'hsm:minio:minkms'] }

export function clusterConfig (nodes = 3): ClusterConfig {
  return {
    name: 'c1',
    nodes: Array.from({ length: nodes }, (_, i) => ({ name: `node${i + 1}`, agent: `https://10.0.0.${i + 1}:7480`, minkms: `10.0.0.${i + 1}:7373` })),
    minkms: { ca: '/etc/keyroll/minkms-ca.pem', adminKeyFile: '/etc/keyroll/minkms-admin.key' }
  } as unknown as ClusterConfig
}

export interface Harness {
  clock: FakeClock
  agents: FakeAgentClient
  probe: FakeClusterProbe
  kms: FakeMinkmsApi
  rollouts: RolloutStore
  store: HsmMigrationStore
  engine: Engine & RolloutEngine
  hsm: HsmMigrationOrchestrator
  nodes: NodeRef[]
  adminKey: string
  /** New engine and orchestrator over the same stores (the old ones closed first). */
  restart: () => Promise<void>
  request: (patch?: Partial<HsmMigrationStart>) => HsmMigrationStart
  /** Advances fake time until the migration satisfies `pred`. */
  until: (id: string, pred: (m: HsmMigration) => boolean, maxMs?: number) => Promise<HsmMigration>
}

export const ended = (m: HsmMigration): boolean => ['succeeded', 'failed', 'aborted'].includes(m.state)

/**
 * `engineStaging: false`: the phases' rollouts apply every node whole (the engine stages the next
 * node by default, which turns its apply into commitStaged calls: tests that script commitStaged
 * for the all-at-once phase B keep phase A's rollout off those scripts).
 */
export function harness (t: Test, opts: { nodes?: number, store?: HsmMigrationStore, rollouts?: RolloutStore, engineStaging?: boolean, rootKeys?: (agents: FakeAgentClient, clock: FakeClock) => RootKeyAdopter } = {}): Harness {
  const clock = new FakeClock()
  const cfg = clusterConfig(opts.nodes ?? 3)
  const nodes: NodeRef[] = cfg.nodes.map((n) => ({ cluster: cfg.name, name: n.name, agentUrl: n.agent, minkms: n.minkms }))
  const agents = new FakeAgentClient(clock)
  for (const n of nodes) agents.addNode(n, { revision: 1 })
  const probe = new FakeClusterProbe().addCluster(nodes)
  const kms = new FakeMinkmsApi()
  const rollouts = opts.rollouts ?? new MemoryRolloutStore()
  const store = opts.store ?? new MemoryHsmMigrationStore()
  const box = coordinatorBoxWithKey(randomBytes(32))
  const log = createLogger({ level: 'silent' })
  const adminKey = generateApiKey().key
  let n = 0
  const rootKeys = opts.rootKeys?.(agents, clock)
  const make = (): { engine: Engine & RolloutEngine, hsm: HsmMigrationOrchestrator } => {
    const engine = createEngine({ store: rollouts, agents, probe, clock, log, sealer: boxSealer(box), fingerprintKey: box.derive('plan fingerprints'), clusters: [cfg], pollMs: 1000, newId: () => `r${++n}`, ...(opts.engineStaging === false ? { staging: false as const } : {}) })
    const hsm = new HsmMigrationOrchestrator({
      store, rollouts: engine, rolloutStore: rollouts, agents, probe, external: externalKmsOver(kms), sealer: boxSealer(box), clock, log, clusters: [cfg], pollMs: 1000, newId: () => `m${++n}`, ...(rootKeys === undefined ? {} : { rootKeys })
    })
    t.teardown(async () => { await hsm.close(); await engine.close() })
    return { engine, hsm }
  }
  const first = make()
  const h: Harness = {
    clock,
    agents,
    probe,
    kms,
    rollouts,
    store,
    nodes,
    adminKey,
    engine: first.engine,
    hsm: first.hsm,
    restart: async () => {
      await h.hsm.close()
      await h.engine.close()
      const next = make()
      h.engine = next.engine
      h.hsm = next.hsm
      await h.engine.resumeAll()
      await h.hsm.resumeAll()
    },
    request: (patch = {}) => ({
      cluster: 'c1',
      external: EXTERNAL,
      enclave: 'aistor-key-manager',
      key: 'aistor-key-manager-hsm',
      adminKey: new Secret(adminKey),
      keepLocalHsm: false,
      replaceHsm: false,
      removeLocalSealedCopy: false,
      phaseB: 'rolling',
      allowWriteOutage: false,
      dryRun: false,
      revealApiKey: false,
      actor: 'alice',
      ...patch
    }),
    until: async (id, pred, maxMs = 900_000) => {
      let last: HsmMigration | undefined
      await clock.advanceUntil(() => {
        // get() answers synchronously enough through the runner's view; poll the store too.
        h.hsm.get(id).then((m) => { last = m }).catch(() => {})
        return last !== undefined && pred(last)
      }, { stepMs: 500, maxMs })
      return last as HsmMigration
    }
  }
  return h
}

/** Every node shows both HSMs (what minkms does once phase A's change is on it). */
export function sealEverywhere (h: Harness): void {
  for (const n of h.nodes) h.probe.setHsms(n, BOTH)
}
