// The composition root's contract: what `keyroll-coordinator serve` needs built from the config
// before it can serve (the store in stateDir, the engine over it, the HTTPS agent client and the
// minkms probe), and how it is closed. serve.ts takes a CreateCoordinatorParts; main.ts hands it
// this module's `createCoordinatorParts`, which wires the real parts (coordinator/store,
// coordinator/engine, coordinator/agents, coordinator/gate). Tests hand in fakes.
import type { Logger } from '../shared/logger.js'
import type { CoordinatorAppDeps } from './app.js'
import type { CoordinatorConfig } from './config-schema.js'

/** Everything the API drives, running, and how to stop it (engine first, then the store). */
export type CoordinatorParts = Pick<CoordinatorAppDeps, 'control' | 'slots' | 'store' | 'agents' | 'probe' | 'ready'> & {
  /** Stops the engine (steps in flight are resumed at the next start) and closes the store. */
  close: () => Promise<void>
}

/** Builds and starts the parts; rejects when the store cannot be opened. */
export type CreateCoordinatorParts = (config: CoordinatorConfig, log: Logger) => Promise<CoordinatorParts>
