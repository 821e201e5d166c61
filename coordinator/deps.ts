// The composition root's contract: what `keyroll-coordinator serve` needs built from the config
// before it can serve (the store in stateDir, the engine over it, the HTTPS agent client and the
// minkms probe), and how it is closed. serve.ts takes a CreateCoordinatorParts; main.ts hands it
// this module's `createCoordinatorParts`, which wires the real parts (coordinator/store,
// coordinator/engine, coordinator/agents, coordinator/gate). Tests hand in fakes.
import { readFile, stat } from 'node:fs/promises'
import { parseDuration } from '../shared/change/duration.js'
import { systemClock } from '../shared/clock.js'
import type { Logger } from '../shared/logger.js'
import { HttpAgentClient, readAgentTls } from './agents/http-agent-client.js'
import { createEngine, boxSealer } from './engine/index.js'
import { MinkmsClusterProbe } from './gate/minkms-cluster-probe.js'
import { FileProbeKeyStore, sealedBoxSealer } from './gate/probe-key-store.js'
import { RootKeyAdoption } from './gate/root-key-adoption.js'
import { RootKeyHandOver } from './gate/root-key-handover.js'
import { externalKmsAt } from './hsm/external-kms.js'
import { HsmMigrationOrchestrator } from './hsm/orchestrator.js'
import { guardRollouts } from './hsm/rollout-guard.js'
import { openCoordinatorBox } from './store/coordinator-sealing.js'
import { SqliteHsmMigrationStore } from './store/sqlite-hsm-migration-store.js'
import { SqliteRolloutStore } from './store/sqlite-rollout-store.js'
import { SqliteRootKeyStore } from './store/sqlite-root-key-store.js'
import { HEALTH_IDLE_CONNECTION_MS } from './cluster-health.js'
import { nodeRefs } from './config.js'
import { Secret } from '../shared/secrets/secret.js'
import type { CoordinatorAppDeps } from './app.js'
import type { CoordinatorConfig } from './config-schema.js'

/** Everything the API drives, running, and how to stop it (engine first, then the store). */
export type CoordinatorParts = Pick<CoordinatorAppDeps, 'control' | 'slots' | 'migrations' | 'rootKeys' | 'store' | 'agents' | 'probe' | 'ready'> & {
  /** Stops the orchestrator and the engine (both resume at the next start) and closes the stores. */
  close: () => Promise<void>
}

/** Builds and starts the parts; rejects when the store cannot be opened. */
export type CreateCoordinatorParts = (config: CoordinatorConfig, log: Logger) => Promise<CoordinatorParts>

/**
 * The real parts: the SQLite store and the sealing key in `stateDir`, the HTTPS agent client with
 * the coordinator's client certificate, the minkms probe with each cluster's admin key, the
 * engine over them, and the HSM migration orchestrator over the engine; every unfinished rollout,
 * then every unfinished migration, is resumed before the API serves. The orchestrator reaches the
 * external Key Manager trusting each cluster's `minkms.externalCa`, by default its `minkms.ca`
 * (an external Key Manager whose certificates the cluster's minkms trusts, as the lab's does).
 * The API's RolloutControl refuses a rollout on a cluster whose HSM migration is active.
 * A cluster whose root API key changed (gate/root-key-adoption.ts) gets its new key adopted and
 * kept sealed in the same file (SqliteRootKeyStore); the probe's root calls take their key from
 * the adoption, which falls back to the configured admin key.
 */
export const createCoordinatorParts: CreateCoordinatorParts = async (config, log) => {
  const box = await openCoordinatorBox(config.stateDir)
  const store = SqliteRolloutStore.inStateDir(config.stateDir)
  let migrations: SqliteHsmMigrationStore | undefined
  let rootKeyStore: SqliteRootKeyStore | undefined
  try {
    migrations = SqliteHsmMigrationStore.inStateDir(config.stateDir)
    rootKeyStore = SqliteRootKeyStore.inStateDir(config.stateDir, { seal: (text) => box.sealText(text), open: (sealed) => box.unsealText(sealed, 'adopted root key') })
    const externalCas = new Map(await Promise.all(config.clusters.map(async (c) => [c.name, await readFile(c.minkms.externalCa ?? c.minkms.ca)] as const)))
    const agentTls = await readAgentTls(config.agents)
    const agents = new HttpAgentClient({ tls: agentTls })
    const adminKeys = new Map(await Promise.all(config.clusters.map(async (c) => [c.name, (await readFile(c.minkms.adminKeyFile, 'utf8')).trim()] as const)))
    // The cluster's root credential: said loudly when other users can read it (not refused, so an
    // existing site keeps running; docs/operations.md asks for 0600).
    for (const c of config.clusters) {
      const mode = (await stat(c.minkms.adminKeyFile)).mode
      if ((mode & 0o077) !== 0) log.warn({ cluster: c.name, file: c.minkms.adminKeyFile, mode: `0${(mode & 0o777).toString(8)}` }, `the admin key file of cluster ${c.name} can be read by other users; chmod 600 it`)
    }
    const refs = nodeRefs(config)
    const adoption = new RootKeyAdoption({
      agents,
      store: rootKeyStore,
      configured: (cluster) => new Secret(adminKeys.get(cluster) ?? ''),
      nodes: (cluster) => refs.filter((n) => n.cluster === cluster),
      // A closure: the probe is made below, and adoption is only asked once it exists.
      verify: async (via, apiKey, opts) => { await probe.checkRootKey(via, apiKey, opts) },
      clock: systemClock,
      log: log.child({ component: 'root-key' }),
      audit: store
    })
    const probeClusters = await Promise.all(config.clusters.map(async (c) => ({
      name: c.name,
      ca: await readFile(c.minkms.ca),
      adminApiKey: adminKeys.get(c.name) ?? '',
      ...(c.minkms.probeEnclave === undefined ? {} : { probeEnclave: c.minkms.probeEnclave }),
      ...(c.minkms.probeKey === undefined ? {} : { probeKey: c.minkms.probeKey })
    })))
    const probeKeys = new FileProbeKeyStore(config.stateDir, sealedBoxSealer(box))
    const probe = new MinkmsClusterProbe({ adminKeys: adoption, clusters: probeClusters, keys: probeKeys })
    // The health views ask every node once per refresh: their own clients, which close an idle
    // connection soon (cluster-health.ts), so that a fleet view leaves no thousand TLS sockets open.
    const healthAgents = new HttpAgentClient({ tls: agentTls, idleConnectionMs: HEALTH_IDLE_CONNECTION_MS })
    const healthProbe = new MinkmsClusterProbe({ clusters: probeClusters, keys: probeKeys, idleSocketMs: HEALTH_IDLE_CONNECTION_MS })
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
    const hsmMigrations = new HsmMigrationOrchestrator({
      store: migrations,
      rollouts: engine,
      rolloutStore: store,
      agents,
      probe,
      external: externalKmsAt((cluster) => externalCas.get(cluster)),
      sealer: boxSealer(box),
      clock: systemClock,
      log,
      clusters: config.clusters,
      rootKeys: adoption
    })
    await hsmMigrations.resumeAll()
    const hsmStore = migrations
    const rootKeys = rootKeyStore
    let closed = false
    return {
      control: guardRollouts(engine, hsmStore),
      migrations: hsmMigrations,
      rootKeys: new RootKeyHandOver({ store: rootKeys, audit: store, clock: systemClock, clusters: config.clusters.map((c) => c.name) }),
      slots: engine,
      store,
      agents: healthAgents,
      probe: healthProbe,
      ready: async () => ({
        ok: !closed,
        checks: { store: { ok: !closed, message: closed ? 'closed' : `open (${config.stateDir})` }, engine: { ok: !closed, message: closed ? 'stopped' : 'running' } }
      }),
      close: async () => {
        closed = true
        await hsmMigrations.close()
        await engine.close()
        await Promise.allSettled([agents.close(), probe.close(), healthAgents.close(), healthProbe.close()])
        await hsmStore.close()
        await rootKeys.close()
        await store.close()
      }
    }
  } catch (err) {
    await migrations?.close()
    await rootKeyStore?.close()
    await store.close()
    throw err
  }
}
