// The rollout engine's entry point (README.md in this directory says how it is built).
import { RolloutEngine, type Engine, type EngineOptions } from './engine.js'

export type { Engine, EngineOptions } from './engine.js'
export type { Sealer } from './sealer.js'
export { RolloutEngine } from './engine.js'
export { boxSealer } from './sealer.js'

/** A rollout engine over the given ports. Call `resumeAll()` once before serving. */
export function createEngine (opts: EngineOptions): Engine & RolloutEngine {
  return new RolloutEngine(opts) as Engine & RolloutEngine
}
