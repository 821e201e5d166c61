// The coordinator API over fakes, for route tests: FakeRolloutControl and FakeSlotControl, a small
// MemoryRolloutStore for tokens and the audit log, scripted agents and minkms probe, and a
// captured log. The store is the real in-memory RolloutStore; `viewer` and `operator` are real
// tokens made with createToken.
import { buildCoordinatorApp, type CoordinatorApp, type CoordinatorAppDeps } from '../../coordinator/app.js'
import { createToken } from '../../coordinator/auth/tokens.js'
import type { CoordinatorConfig } from '../../coordinator/config-schema.js'
import type { NodeRef } from '../../coordinator/ports/node-ref.js'
import { MemoryRolloutStore } from '../../coordinator/store/memory-rollout-store.js'
import { deepFreeze } from '../../shared/change/change.js'
import type { AgentStatus } from '../../shared/schemas/agent-status.js'
import { createCoordinatorLogger } from '../../coordinator/logger.js'
import { FakeRolloutControl, FakeSlotControl } from './fake-rollout-control.js'

/** What a scripted node answers; absent nodes answer healthy. */
export interface NodeScript { status?: Partial<AgentStatus> | Error | 'hang', ready?: boolean | Error, minkmsReady?: boolean | Error | 'hang' }

/** Agents and minkms answering from a script per node name. */
export function scriptedHealth (script: Record<string, NodeScript> = {}): Pick<CoordinatorAppDeps, 'agents' | 'probe'> {
  const hang = async (signal?: AbortSignal): Promise<never> => await new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
  })
  return {
    agents: {
      status: async (node: NodeRef, opts) => {
        const s = script[node.name]?.status
        if (s === 'hang') return await hang(opts?.signal)
        if (s instanceof Error) throw s
        return {
          node: node.name,
          unit: { name: 'minkms.service', status: { activeState: 'active', subState: 'running', result: 'success', invocationId: `inv-${node.name}`, nRestarts: 0, mainPid: 42, execMainStatus: 0, loadState: 'loaded' } },
          appliedRevision: 3,
          desiredRevision: 3,
          applying: false,
          drift: [],
          checks: { config: { ok: true, message: 'ok' }, unit: { ok: true, message: 'ok' }, journal: { ok: true, message: 'ok' } },
          ...s
        }
      },
      ready: async (node: NodeRef) => {
        const r = script[node.name]?.ready ?? true
        if (r instanceof Error) throw r
        return r
      }
    },
    probe: {
      ready: async (node: NodeRef, opts) => {
        const r = script[node.name]?.minkmsReady ?? true
        if (r === 'hang') return await hang(opts?.signal)
        if (r instanceof Error) throw r
        return r
      }
    }
  }
}

/** A coordinator config for tests: plain HTTP on loopback, clusters c1 (3 nodes) and c2 (1 node). */
export function testCoordinatorConfig (over: Record<string, unknown> = {}): CoordinatorConfig {
  return deepFreeze({
    listen: { host: '127.0.0.1', port: 0 },
    devInsecureHttp: true,
    stateDir: '/var/lib/keyroll-coordinator',
    agents: { ca: '/etc/keyroll/agents-ca.pem', cert: '/etc/keyroll/coordinator.pem', key: '/etc/keyroll/coordinator.key' },
    clusters: [
      { name: 'c1', nodes: [1, 2, 3].map(i => ({ name: `node${i}`, agent: `https://10.0.0.${i}:7400`, minkms: `10.0.0.${i}:7373` })), minkms: { ca: '/etc/keyroll/minkms-ca.pem', adminKeyFile: '/etc/keyroll/c1-admin.key' } },
      { name: 'c2', nodes: [{ name: 'node9', agent: 'https://10.0.1.9:7400', minkms: '10.0.1.9:7373' }], minkms: { ca: '/etc/keyroll/minkms-ca.pem', adminKeyFile: '/etc/keyroll/c2-admin.key' } }
    ],
    slots: { ttl: '2m' },
    log: { level: 'info' },
    ...over
  }) as CoordinatorConfig
}

/** What {@link buildTestCoordinator} needs from a tap test. */
interface TeardownHost { teardown: (fn: () => unknown) => void }

/** A built test API. */
export interface TestCoordinator {
  app: CoordinatorApp
  control: FakeRolloutControl
  slots: FakeSlotControl
  store: MemoryRolloutStore
  lines: string[]
  /** Authorization headers of a viewer and an operator token. */
  viewer: { authorization: string }
  operator: { authorization: string }
  viewerToken: string
  operatorToken: string
}

/** The API over fakes, closed at teardown. */
export async function buildTestCoordinator (t: TeardownHost, over: Partial<CoordinatorAppDeps> & { config?: CoordinatorConfig, script?: Record<string, NodeScript> } = {}): Promise<TestCoordinator> {
  const lines: string[] = []
  const logger = createCoordinatorLogger({ destination: { write: (l: string) => lines.push(l) } })
  const control = over.control instanceof FakeRolloutControl ? over.control : new FakeRolloutControl({ c1: ['node1', 'node2', 'node3'], c2: ['node9'] })
  const slots = over.slots instanceof FakeSlotControl ? over.slots : new FakeSlotControl()
  const store = new MemoryRolloutStore()
  const viewerToken = (await createToken(store, 'alice', 'viewer')).token
  const operatorToken = (await createToken(store, 'bob', 'operator')).token
  const { config, script, ...deps } = over
  const app = buildCoordinatorApp({
    logger,
    control,
    slots,
    store,
    ...scriptedHealth(script),
    ready: async () => ({ ok: true, checks: { store: { ok: true, message: 'open' }, engine: { ok: true, message: 'running' } } }),
    ...deps
  }, config ?? testCoordinatorConfig())
  t.teardown(() => app.close())
  await app.ready()
  return { app, control, slots, store, lines, viewerToken, operatorToken, viewer: { authorization: `Bearer ${viewerToken}` }, operator: { authorization: `Bearer ${operatorToken}` } }
}
