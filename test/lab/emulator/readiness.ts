// Read-readiness of the node (GET /v1/health/ready): false until the banner is out, then true,
// unless the `never-ready` fault holds it at false or `flap` toggles it periodically.
import type { Faults } from './faults.js'
import type { EmulatorLog } from './log.js'

export class Readiness {
  #ready = false
  #timer: NodeJS.Timeout | undefined
  readonly #faults: Faults
  readonly #log: EmulatorLog

  constructor (faults: Faults, log: EmulatorLog) {
    this.#faults = faults
    this.#log = log
  }

  get ready (): boolean { return this.#ready }

  /** Called once the listener is up and the banner printed. */
  start (): void {
    if (this.#faults.neverReady === true) {
      this.#log.warn('fault never-ready: /v1/health/ready stays 503')
      return
    }
    this.#ready = true
    const period = this.#faults.flapMs
    if (period !== undefined) {
      this.#timer = setInterval(() => {
        this.#ready = !this.#ready
        this.#log.warn(`fault flap: readiness is now ${this.#ready ? 'up' : 'down'}`)
      }, period)
    }
  }

  /** Not ready any more (stopping). */
  stop (): void {
    this.#ready = false
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
