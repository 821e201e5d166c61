// The composition root's contract: what `keyroll-coordinator serve` needs built from the config
// before it can serve (the store in stateDir, the engine over it, the HTTPS agent client and the
// minkms probe), and how it is closed. serve.ts takes a CreateCoordinatorParts; main.ts hands it
// this module's `createCoordinatorParts`, which wires the real parts (coordinator/store,
// coordinator/engine, coordinator/agents, coordinator/gate). Tests hand in fakes.
import { readFile } from 'node:fs/promises'
import { parseDuration } from '../shared/change/duration.js'
import { systemClock } from '../shared/clock.js'
import type { Logger } from '../shared/logger.js'
import { HttpAgentClient, readAgentTls } from './agents/http-agent-client.js'
import { createEngine, boxSealer } from './engine/index.js'
import { MinkmsClusterProbe } from './gate/minkms-cluster-probe.js'
import { FileProbeKeyStore, sealedBoxSealer } from './gate/probe-key-store.js'
import { openCoordinatorBox } from './store/coordinator-sealing.js'
import { SqliteRolloutStore } from './store/sqlite-rollout-store.js'
import type { CoordinatorAppDeps } from './app.js'
import type { CoordinatorConfig } from './config-schema.js'

/** Everything the API drives, running, and how to stop it (engine first, then the store). */
export type CoordinatorParts = Pick<CoordinatorAppDeps, 'control' | 'slots' | 'migrations' | 'store' | 'agents' | 'probe' | 'ready'> & {
  /** Stops the engine (steps in flight are resumed at the next start) and closes the store. */
  close: () => Promise<void>
}

/** Builds and starts the parts; rejects when the store cannot be opened. */
export type CreateCoordinatorParts = (config: CoordinatorConfig, log: Logger) => Promise<CoordinatorParts>

/**
 * The real parts: the SQLite store and the sealing key in `stateDir`, the HTTPS agent client with
 * the coordinator's client certificate, the minkms probe with each cluster's admin key, and the
 * engine over them, which resumes every unfinished rollout before the API serves.
 */
export const createCoordinatorParts: CreateCoordinatorParts = async (config, log) => {
  const box = await openCoordinatorBox(config.stateDir)
  const store = SqliteRolloutStore.inStateDir(config.stateDir)
  try {
    const agents = new HttpAgentClient({ tls: await readAgentTls(config.agents) })
    const probe = new MinkmsClusterProbe({
      clusters: await Promise.all(config.clusters.map(async (c) => ({
        name: c.name,
        ca: await readFile(c.minkms.ca),
        adminApiKey: (await readFile(c.minkms.adminKeyFile, 'utf8')).trim(),
        ...(c.minkms.probeEnclave === undefined ? {} : { probeEnclave: c.minkms.probeEnclave }),
        ...(c.minkms.probeKey === undefined ? {} : { probeKey: c.minkms.probeKey })
      }))),
      keys: new FileProbeKeyStore(config.stateDir, sealedBoxSealer(box))
    })
    const engine = createEngine({
      store,
      agents,
      probe,
      clock: systemClock,
      log,
      sealer: boxSealer(box),
      clusters: config.clusters,
      fingerprintKey: box.derive('plan-fingerprints'),
      slotTtlMs: parseDuration(config.slots.ttl) ?? 120_000
    })
    await engine.resumeAll()
    let closed = false
    return {
      control: engine,
      slots: engine,
      store,
      agents,
      probe,
      ready: async () => ({
        ok: !closed,
        checks: { store: { ok: !closed, message: closed ? 'closed' : `open (${config.stateDir})` }, engine: { ok: !closed, message: closed ? 'stopped' : 'running' } }
      }),
      close: async () => {
        closed = true
        await engine.close()
        await Promise.allSettled([agents.close(), probe.close()])
        await store.close()
      }
    }
  } catch (err) {
    await store.close()
    throw err
  }
}
