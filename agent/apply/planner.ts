// Where a change is planned (shared/change/plan.ts). Planning a large change is hundreds of
// milliseconds of synchronous work (YAML parse and edit, validation, diff); on the daemon's event
// loop that would stall every other request, /health/live included, so the daemon plans in a
// worker thread (worker-planner.ts). The in-process planner here is the same computation without
// the thread, for one-shot CLI commands and unit tests: both return the same plan, byte for byte,
// and throw the same errors.
import { planChange, type ChangePlan, type CurrentFiles, type PlanOptions } from '../../shared/change/plan.js'
import type { Change } from '../../shared/change/change.js'

/** Plans changes; see planChange for what a plan holds and what it throws. */
export interface Planner {
  plan: (current: CurrentFiles, change: Change, opts: PlanOptions) => Promise<ChangePlan>
  /** Stops what the planner started (a worker); later plans start it again. */
  close: () => Promise<void>
}

/** Plans on the caller's thread. */
export class InlinePlanner implements Planner {
  async plan (current: CurrentFiles, change: Change, opts: PlanOptions): Promise<ChangePlan> {
    return planChange(current, change, opts)
  }

  async close (): Promise<void> {}
}
