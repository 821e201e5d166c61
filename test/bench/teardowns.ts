// The teardown host of a plain benchmark script (what tap's `t` is to a lab test): the lab's
// teardowns registered as it boots, run last-registered first, once, on success, error or signal.
import { errText } from '../../shared/error-text.js'
import type { TeardownHost } from '../lab/start-lab.js'

/** The teardown host of a plain script: functions run last-registered first, once. */
export class Teardowns implements TeardownHost {
  readonly #fns: Array<() => unknown> = []
  #running: Promise<string[]> | undefined

  teardown (fn: () => unknown): void { this.#fns.push(fn) }

  /** Runs every teardown (all of them, even after one fails); the failures' messages. */
  async run (): Promise<string[]> {
    this.#running ??= (async () => {
      const failures: string[] = []
      for (const fn of this.#fns.splice(0).reverse()) {
        try { await fn() } catch (e) { failures.push(errText(e)) }
      }
      return failures
    })()
    return await this.#running
  }
}

/** On SIGINT/SIGTERM: runs `host`'s teardowns (the lab goes down), then exits 130/143. */
export function tearDownOnSignals (host: Teardowns, say: (s: string) => void): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    say(`${signal}: tearing the lab down`)
    host.run().then((f) => { for (const m of f) say(`teardown: ${m}`) }, () => {}).finally(() => { process.exit(signal === 'SIGINT' ? 130 : 143) }).catch(() => {})
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}
